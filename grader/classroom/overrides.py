"""Overrides and regrades: a teacher's corrections, applied after grading and kept across reruns.

``--overrides FILE`` is a CSV, one correction a row (a header row is allowed)::

    student,exercise,points,reason
    kim,numerical_gradient,15,"regrade: the loop is right, the test was too strict"
    lee,softmax,failed,copied from the solutions

The third column is points (0 to the exercise's points) or a status (passed, partial, failed,
missing). The file is copied into OUTDIR (``overrides.csv``) so a rerun without ``--overrides``
keeps the corrections; giving ``--overrides`` again replaces them. Grading never changes because of
an override: the record stays as graded, and the correction is laid over it each run, shown in the
student's report with its reason and marked ``overridden`` in the gradebook.
"""
from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..report import Adjustment, ExerciseResult
from .outcome import UsageError

KEPT = "overrides.csv"  # in OUTDIR
SET_STATUSES = ("passed", "partial", "failed", "missing")


@dataclass(frozen=True)
class Override:
    student: str
    exercise: str
    points: float | None  # None: the status decides (passed: full points, else none)
    status: str  # "" with points: derived from them
    reason: str
    line: int


def read_overrides(path: Path) -> tuple[Override, ...]:
    """Every row of ``path``; a malformed row raises UsageError naming its line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--overrides {path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    found: list[Override] = []
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as exc:
        raise UsageError(f"--overrides {path}: not a CSV file ({exc})") from None
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and cells[0].lower() == "student":
            continue
        where = f"--overrides {path}, line {number}"
        if len(cells) < 3 or not cells[0] or not cells[1]:
            raise UsageError(f"{where}: expected student,exercise,points or status,reason "
                             f"(e.g. kim,numerical_gradient,15,regrade)")
        value, reason = cells[2], ",".join(cells[3:]).strip()
        if value.lower() in SET_STATUSES:
            found.append(Override(cells[0], cells[1], None, value.lower(), reason, number))
            continue
        try:
            points = float(value)
        except ValueError:
            raise UsageError(f"{where}: {value!r} is neither points nor a status "
                             f"({', '.join(SET_STATUSES)})") from None
        if not points >= 0:
            raise UsageError(f"{where}: points must be 0 or more, not {value}")
        found.append(Override(cells[0], cells[1], points, "", reason, number))
    return tuple(found)


def check_overrides(overrides: tuple[Override, ...], students: set[str], points: dict[str, float],
                    source: Path) -> None:
    """Every row names a student of the class and an exercise graded, within its points: nothing is
    guessed, so a typo is said at once rather than silently left out."""
    seen: dict[tuple[str, str], int] = {}
    for o in overrides:
        where = f"--overrides {source}, line {o.line}"
        if o.student not in students:
            raise UsageError(f"{where}: no student {o.student!r} in this class (see grade class --list)")
        if o.exercise not in points:
            raise UsageError(f"{where}: no exercise {o.exercise!r} is graded; known: {', '.join(points)}")
        if o.points is not None and o.points > points[o.exercise]:
            raise UsageError(f"{where}: {o.points:g} points is more than {o.exercise} is worth "
                             f"({points[o.exercise]:g})")
        if (o.student, o.exercise) in seen:
            raise UsageError(f"{where}: {o.student} {o.exercise} is overridden already on line "
                             f"{seen[(o.student, o.exercise)]}; keep one row")
        seen[(o.student, o.exercise)] = o.line


def keep(source: Path | None, outdir: Path) -> Path | None:
    """The overrides of this run: ``source``, copied into OUTDIR for the next run, else the copy kept there."""
    kept = outdir / KEPT
    if source is not None:
        if source.resolve() != kept.resolve():
            shutil.copyfile(source, kept)
        return kept
    return kept if kept.is_file() else None


def overridden(exercise: ExerciseResult, override: Override) -> tuple[ExerciseResult, Adjustment]:
    """``exercise`` with the teacher's points or status, and the record of the change."""
    from dataclasses import replace

    if override.points is not None:
        score = round(override.points, 2)
        status = "passed" if score >= exercise.max_score else "failed" if score == 0 else "partial"
    else:
        status = override.status
        score = exercise.max_score if status == "passed" else 0.0 if status in ("failed", "missing") else exercise.score
    change = Adjustment("override", override.reason, before=exercise.score, after=score, exercise=exercise.id,
                        status=status)
    return replace(exercise, score=score, status=status), change
