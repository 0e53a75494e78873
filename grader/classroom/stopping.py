"""Ctrl-C, ``kill`` and a closed terminal stop a class run the same way: what is graded is written.

The first SIGINT, SIGTERM or SIGHUP raises :class:`KeyboardInterrupt` where the run is (the pool
then stops its processes and their workers); from then on, and while the gradebook and the
overview are written (:func:`hold`), a stop signal is only remembered, so that a second Ctrl-C
cannot cut the writing of what is graded short. ``grade``'s own handlers (grader/cli/interrupts.py)
raise an exception the class run does not expect; these replace them for the run and give them back.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class _State:
    raising = False  # the next stop signal raises KeyboardInterrupt
    received: int | None = None  # the last stop signal, if any


_state = _State()


def _handler(signum: int, frame: Any) -> None:
    _state.received = signum
    if _state.raising:
        _state.raising = False  # one stop is enough: the clean-up and the writing run to their end
        raise KeyboardInterrupt


@contextmanager
def stop_signals() -> Iterator[None]:
    """Inside the block, a stop signal raises KeyboardInterrupt once (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, _handler) for number in SIGNALS}
    _state.raising, _state.received = True, None
    try:
        yield
    finally:
        _state.raising = False
        for number, handler in previous.items():
            signal.signal(number, handler)


def hold() -> None:
    """From now on a stop signal is remembered, not raised (the class outputs are being written)."""
    _state.raising = False


def received() -> bool:
    """Whether a stop signal arrived since the block began."""
    return _state.received is not None
