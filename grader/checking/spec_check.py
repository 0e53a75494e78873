"""``grade check-exercises [DIR]``: validate exercise specs before students meet them.

For every spec: the fields are known, the reference imports, the reference runs on
every case, it reproduces every pinned book value within the case's tolerance, and
every named check exists. Each problem names the file and the field.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pluggy

from .context import materialize
from .display import value_text
from ..specs.exercises import Exercise, SpecError, load_exercise
from ..plugins import merged


@dataclass(frozen=True)
class SpecReport:
    path: str
    problems: tuple[str, ...]
    cases: int = 0
    checks: int = 0


def check_folder(folder: Path, pm: pluggy.PluginManager, seen: dict[str, str] | None = None) -> list[SpecReport]:
    """``seen`` maps exercise ids to the spec that defined them, across folders: ids must be unique."""
    generators = merged(pm.hook.grader_generators())
    registered = merged(pm.hook.grader_checks())
    seen = {} if seen is None else seen
    reports = []
    for path in sorted(folder.glob("*.toml")):
        try:
            exercise = load_exercise(path, generators)
        except SpecError as exc:
            reports.append(SpecReport(str(path), (str(exc),)))
            continue
        problems = check_exercise(exercise, registered)
        if exercise.id in seen:
            problems.append(f"{path}: id {exercise.id!r} is already used by {seen[exercise.id]}")
        seen.setdefault(exercise.id, str(path))
        reports.append(SpecReport(str(path), tuple(problems), len(exercise.cases), len(exercise.checks)))
    return reports


def check_exercise(exercise: Exercise, registered: dict) -> list[str]:
    where = exercise.source
    try:
        reference = exercise.load_reference()
    except Exception as exc:
        return [f"{where}: reference = {exercise.reference!r} cannot be imported: {type(exc).__name__}: {exc}"]
    problems = []
    for index, case in enumerate(exercise.cases):
        label = f"{where}: case {case.name!r}" + (f" (seed {case.seed})" if case.seed is not None else "")
        try:
            value = reference(*materialize(case.args))
        except Exception as exc:
            problems.append(f"{label}: the reference itself fails on this case: {type(exc).__name__}: {exc}")
            continue
        if exercise.unpack_tuple and isinstance(value, tuple):
            value = value[0]
        if case.book_value is None:
            continue
        try:
            ok = np.allclose(np.asarray(value, dtype=float), np.asarray(case.book_value, dtype=float),
                             rtol=case.rtol, atol=case.atol) and np.shape(value) == np.shape(case.book_value)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            full = np.array2string(np.asarray(value, dtype=float), precision=17, separator=", ") \
                if np.size(value) > 1 else repr(float(value)) if np.size(value) == 1 else value_text(value)
            problems.append(f"{label}.book_value: the reference gives {full}, not {case.book_value!r} "
                            f"(rtol {case.rtol:g}, atol {case.atol:g})")
    for spec in exercise.checks:
        if spec.check not in registered:
            problems.append(f"{where}: check {spec.name!r}.check: no check named {spec.check!r} is registered "
                            f"(known: {', '.join(sorted(registered))})")
    return problems
