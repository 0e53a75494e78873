"""SIGTERM, SIGINT and SIGHUP as exceptions, so that ``finally`` blocks remove the worker and its folder.

Without this, ``kill`` (or a CI runner cancelling a job) ends ``grade`` at once and leaves
the sandboxed worker (in its own session, so the signal does not reach it) and its
``/tmp/dlfs-grade-*`` folder behind. The first signal raises :class:`Interrupted`;
later ones are ignored so the clean-up itself is not cut short.
"""
from __future__ import annotations

import signal
import sys
from contextlib import contextmanager

TYPE_CHECKING = False  # this module is loaded before the worker is spawned: typing would delay it
if TYPE_CHECKING:
    from typing import Any, Iterator

SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name))


class Interrupted(BaseException):
    """``grade`` was told to stop; ``exit_code`` is the shell's 128 + signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum


class _State:
    deferred = 0
    pending: int | None = None


_state = _State()


def _handler(signum: int, frame: Any) -> None:
    for number in SIGNALS:  # one stop is enough; let the clean-up run to its end
        signal.signal(number, signal.SIG_IGN)
    if _state.deferred:
        _state.pending = signum
        return
    raise Interrupted(signum)


@contextmanager
def as_exceptions() -> Iterator[None]:
    """Turn the stop signals into :class:`Interrupted` inside the block (main thread only)."""
    # Only the main thread may set handlers. Without threading loaded there is no other thread
    # to be in (and `grade` gets to its worker's start without loading it).
    threading = sys.modules.get("threading")
    if threading is not None and threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, _handler) for number in SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def deferred() -> Iterator[None]:
    """A stop signal waits until the block is done (e.g. until a started process has an owner)."""
    _state.deferred += 1
    try:
        yield
    finally:
        _state.deferred -= 1
        if not _state.deferred and _state.pending is not None:
            signum, _state.pending = _state.pending, None
            raise Interrupted(signum)
