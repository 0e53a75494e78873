"""The total time limit of one submission (``--total-timeout``), on top of the per-call limit.

Each call into the student's code has its own limit, but a submission with many slow
exercises (or a worker restarted again and again) could still take minutes. Past the
total limit the exercise under way is abandoned and the ones not started are not
graded; everything already graded is kept and the report says what was not graded
(DESIGN.md principle 5).

On POSIX a SIGALRM interrupts the exercise under way; elsewhere the clock is checked
between exercises.
"""
from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Callable, Iterable, Iterator

from .i18n import N_, _
from .report import ExerciseResult

DEFAULT_SECONDS = 60.0
NOT_GRADED = N_("not graded: the total time limit for this submission ({seconds:g} s, --total-timeout) ran out "
                "before this exercise was done")


class TotalTimeout(BaseException):
    """The submission's total time is up. A BaseException, so a check's ``except Exception`` cannot swallow it."""


class _State:
    seconds: float | None = None  # the limit armed by :func:`limit`
    deadline: float | None = None  # time.monotonic() value
    interruptible = False  # true while an exercise is under way: only then may the alarm raise


_state = _State()


def _on_alarm(signum: int, frame: Any) -> None:
    if _state.interruptible:
        _state.interruptible = False
        raise TotalTimeout()


@contextmanager
def limit(seconds: float | None) -> Iterator[None]:
    """Arm the total limit for the grading inside the block (``None``: no limit)."""
    if seconds is None:
        yield
        return
    _state.seconds, _state.deadline = seconds, time.monotonic() + seconds
    use_alarm = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGALRM, _on_alarm) if use_alarm else None
    _state.interruptible = True  # loading the submission may be cut short too; grade_each narrows it
    if use_alarm:
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        _state.seconds = _state.deadline = None
        _state.interruptible = False


def expired() -> bool:
    return _state.deadline is not None and time.monotonic() >= _state.deadline


def not_graded(exercise: Any, seconds: float) -> ExerciseResult:
    return ExerciseResult(exercise.id, _(exercise.title), exercise.section, "timeout", 0.0, exercise.points, "",
                          message=_(NOT_GRADED).format(seconds=seconds), graded=False)


def grade_each(exercises: Iterable[Any], grade_one: Callable[[Any], ExerciseResult]) -> list[ExerciseResult]:
    """``grade_one`` for every exercise, timed; past the armed limit the rest are marked not graded."""
    results = []
    _state.interruptible = False  # between exercises the alarm only marks the time as up
    for exercise in exercises:
        start = time.monotonic()
        if expired():
            results.append(not_graded(exercise, _state.seconds or 0))
            continue
        try:
            _state.interruptible = True
            result = grade_one(exercise)
            _state.interruptible = False
        except TotalTimeout:
            _state.interruptible = False
            result = not_graded(exercise, _state.seconds or 0)
        results.append(replace(result, duration=round(time.monotonic() - start, 4)))
    return results
