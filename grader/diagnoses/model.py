"""Known mistakes: from what the checks observed, name the misconception and how to find the fix.

A check records an :class:`Observation` for each call it judged: the inputs, the
reference's value and what the student's code returned, at full precision (the
report only keeps a summary). After an exercise is graded, every
:class:`DiagnosisRule` registered for it (through the ``grader_diagnoses`` hook) looks
at that evidence, typically recomputing a known wrong variant of the reference on
the same inputs (no 0.5 factor, a forward difference, ``x += lr * grad``) and
comparing it with what the student got.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ..checking.comparisons import as_numeric
from ..report import Diagnosis
from ..worker.client import StudentError


@dataclass(frozen=True)
class Observation:
    """One judged call. ``check`` is the check's kind (``cases``, ``cases.unchanged``,
    ``two_layer_net.predict``...); ``book`` marks the book's pinned examples."""

    check: str
    args: tuple[Any, ...]
    expected: Any
    actual: Any
    passed: bool
    outcome: str = "ok"
    error: StudentError | None = None
    book: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Evidence:
    exercise: str
    observations: tuple[Observation, ...]
    names: tuple[str, ...] = ()  # every identifier in the student's code, for "did you mean"
    # The code of the definitions graded, as written: a rule that names a cause in the code
    # (``x`` handed to every layer) checks that the code has it. Empty when nothing failed.
    sources: tuple[str, ...] = ()
    # Names the student's own failed import statements should have bound: name -> FailedImport
    # (grader/submission/failed_imports.py). Such a name is not "undefined": its import failed.
    imports: Mapping[str, Any] = field(default_factory=dict)

    def failed(self, check: str | None = None) -> list[Observation]:
        return [o for o in self.observations if not o.passed and (check is None or o.check == check)]

    def passed(self, check: str | None = None) -> list[Observation]:
        return [o for o in self.observations if o.passed and (check is None or o.check == check)]


@dataclass(frozen=True)
class DiagnosisRule:
    """``detect`` says whether the evidence shows this mistake; ``message`` is English
    (translated through the catalogs) and may use ``{placeholders}`` that ``details``
    fills from the evidence."""

    id: str
    exercises: tuple[str, ...]  # exercise ids, or ("*",) for every exercise
    message: str
    detect: Callable[[Evidence], bool]
    details: Callable[[Evidence], Mapping[str, Any]] | None = None
    # The mistake in general terms, for a page about many students (the class overview): needed
    # when ``message`` has placeholders, which one student's code fills in. English, translatable.
    summary: str = ""

    def applies_to(self, exercise_id: str) -> bool:
        return "*" in self.exercises or exercise_id in self.exercises


def diagnose(evidence: Evidence, rules: Iterable[DiagnosisRule], translate: Callable[[str], str]) -> list[Diagnosis]:
    found: list[Diagnosis] = []
    for rule in rules:
        if not rule.applies_to(evidence.exercise) or not evidence.failed():
            continue
        try:
            hit = rule.detect(evidence)
            values = dict(rule.details(evidence)) if hit and rule.details else {}
        except Exception:  # a rule that cannot read this evidence simply does not apply
            continue
        if hit and all(d.id != rule.id for d in found):
            found.append(Diagnosis(rule.id, translate(rule.message).format(**values)))
    return found


# ---- helpers rules share -----------------------------------------------------------

def close(actual: Any, target: Any, rtol: float = 1e-9, atol: float = 1e-12) -> bool:
    """Is ``actual`` numerically ``target`` (same shape, nan where nan)?"""
    a, t = as_numeric(actual), as_numeric(target)
    if a is None or t is None or a.shape != t.shape:
        return False
    return bool(np.allclose(a, t, rtol=rtol, atol=atol, equal_nan=True))


def non_finite(value: Any) -> bool:
    a = as_numeric(value)
    return a is not None and a.size > 0 and not bool(np.all(np.isfinite(a)))


def normalised_over_whole_batch(value: Any) -> bool:
    """A batch of probabilities that sums to 1 as a whole instead of row by row (softmax without an axis)."""
    a = as_numeric(value)
    return (a is not None and a.ndim == 2 and a.shape[0] > 1 and bool(np.isclose(a.sum(), 1.0))
            and not bool(np.allclose(a.sum(axis=1), 1.0)))


def error_text(observation: Observation) -> str:
    error = observation.error
    return f"{error.type}: {error.message}" if error else ""


def syntax_trees(evidence: Evidence) -> list:
    """The graded code as syntax trees (what does not parse is left out)."""
    import ast
    import textwrap
    trees = []
    for source in evidence.sources:
        try:
            trees.append(ast.parse(textwrap.dedent(source)))
        except (SyntaxError, ValueError):
            continue
    return trees
