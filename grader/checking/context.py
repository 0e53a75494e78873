"""What a check receives: the exercise, the student's candidates, the worker and the reference.

Also the shared wording of outcomes, so every check tells a stuck student the same
four things: what was called, with what, what was expected, and what came back.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..submission.definitions import Definition
from ..diagnoses.model import Observation
from .display import source_text, to_jsonable, value_text
from ..specs.exercises import Exercise
from ..specs.instructor_secret import salted_seed
from ..i18n import _
from ..loaders.base import Submission
from ..report import CheckResult
from ..worker.client import Reply, WorkerClient
from ..worker.wire import Fn


@dataclass
class CheckContext:
    exercise: Exercise
    worker: WorkerClient
    candidates: list[Definition]
    reference: Any
    submission: Submission
    observations: list[Observation] = field(default_factory=list)
    memo: dict[str, Any] = field(default_factory=dict)  # what a check found once for the whole exercise

    def observe(self, observation: Observation) -> None:
        """Keep what a check saw, at full precision, for the diagnosis rules."""
        self.observations.append(observation)

    def rng(self, seed: int) -> np.random.Generator:
        """The generator of a named check's random inputs: the spec's seed, salted with the
        instructor's secret when there is one (see :func:`grader.specs.exercises.salted_seed`)."""
        return np.random.default_rng(salted_seed(seed, self.exercise.id))

    @property
    def primary(self) -> Definition:
        return self.candidates[0]

    def where(self, reply: Reply) -> str:
        """The line of the student's code an exception came from, quoted."""
        if not reply.error or not reply.error.where:
            return ""
        last = reply.error.where[-1]
        cell = self.submission.cell(str(last.get("cell", "")))
        if cell is None:
            return ""
        lines = cell.source.splitlines()
        number = int(last.get("line", 0))
        code = lines[number - 1].strip() if 0 < number <= len(lines) else ""
        place = cell.place(number + cell.first_line - 1)
        return (_(" at {place}: `{code}`") if code else _(" at {place}")).format(place=place, code=code)

    def failure_text(self, call: str, reply: Reply) -> tuple[str, str]:
        """(message, outcome) for a call that did not return normally."""
        if reply.status == "timeout":
            return (_("{call} did not finish within {seconds:g} s. Look for a loop that never ends.").format(
                call=call, seconds=self.worker.limits.call_seconds), "timeout")
        if reply.status == "crash":
            return _("{call} ended the grading process ({detail}).").format(call=call, detail=reply.error.message), \
                "crash"
        error = reply.error
        message = error.message.strip()  # NumPy ends some ("... shapes (20,) (20,3) ") with a space
        text = f"{error.type}: {message}" if message else error.type
        return _("{call} raised {error}{where}.").format(call=call, error=text, where=self.where(reply)), "error"


def materialize(value: Any) -> Any:
    """Turn grader-written :class:`Fn` sources into local functions for the reference."""
    if isinstance(value, Fn):
        scope = {"np": np, **{k: materialize(v) for k, v in value.bind}}
        return eval(value.source, scope)  # the grader's own source, from a spec or generator
    if isinstance(value, tuple):
        return tuple(materialize(v) for v in value)
    return copy.deepcopy(value)


def call_text(name: str, args: tuple, names: tuple[str, ...] = (), kwargs: dict | None = None) -> str:
    parts = [source_text(a, names[i] if i < len(names) else "") for i, a in enumerate(args)]
    parts += [f"{key}={source_text(value)}" for key, value in (kwargs or {}).items()]
    return f"{name}({', '.join(parts)})"


def wrong_value(name: str, call: str, expected: Any, actual: Any, problem: str, *, hint: str = "",
                graded_by: str = "", weight: float = 1.0, book_value: Any = None) -> CheckResult:
    book = _(" (the book prints {value})").format(value=book_value) if book_value is not None else ""
    message = _("{call} returned {actual}; expected {expected}{book}: {problem}.").format(
        call=call, actual=value_text(actual), expected=value_text(expected), book=book, problem=problem)
    return CheckResult(name, False, message, to_jsonable(expected), to_jsonable(actual), call, hint, graded_by,
                       outcome="wrong", weight=weight)


def right_value(name: str, call: str, expected: Any, actual: Any, *, graded_by: str = "",
                weight: float = 1.0) -> CheckResult:
    return CheckResult(name, True, _("{call} returned {actual} as expected.").format(
        call=call, actual=value_text(actual)), to_jsonable(expected),
                       to_jsonable(actual), call, "", graded_by, weight=weight)
