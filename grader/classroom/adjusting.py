"""The teacher's rules laid over the graded results: overrides first, then the late penalty.

Records in OUTDIR stay as graded (the same submission always gets the same record); the rules are
applied on every run, so changing an override or the late policy never grades anyone again. A
student's report files are written again only when what was applied to them changed
(``OUTDIR/.adjusted.json`` remembers what each page shows).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Callable

from ..report import Adjustment, Report
from ..specs.late_policy import LatePolicy
from .late import HandedIn, handed_in, late_adjustment
from .overrides import Override, overridden
from .results import ExerciseSummary, StudentResult, read_record, report_path, write_atomic
from .roster import Student

STAMPS = ".adjusted.json"


@dataclass(frozen=True)
class ClassRules:
    due: datetime | None = None
    policy: LatePolicy | None = None
    times: tuple[tuple[str, datetime], ...] = ()  # --times
    times_from_mtime: bool = False
    overrides: tuple[Override, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.overrides) or (self.due is not None and self.policy is not None)


def adjusted_report(report: Report, student: Student, rules: ClassRules) -> Report:
    """``report`` with the overrides of ``student`` and the late penalty applied, each recorded."""
    changes: list[Adjustment] = []
    exercises = list(report.exercises)
    for override in rules.overrides:
        if override.student != student.id:
            continue
        for index, exercise in enumerate(exercises):
            if exercise.id == override.exercise:
                exercises[index], change = overridden(exercise, override)
                changes.append(change)
    report = replace(report, exercises=tuple(exercises))
    if rules.due is not None and rules.policy is not None:
        when: HandedIn | None = handed_in(student, dict(rules.times), rules.times_from_mtime)
        late = late_adjustment(when, rules.due, rules.policy, report.raw_score, report.max_score)
        if late is not None:
            changes.append(late)
    return replace(report, adjustments=tuple(changes))


def adjusted_result(result: StudentResult, report: Report) -> StudentResult:
    """The gradebook's summary of an adjusted report."""
    exercises = tuple(ExerciseSummary(e.id, e.status, e.score, e.max_score, e.diagnoses, e.book_listing)
                      for e in report.exercises)
    return replace(result, exercises=exercises, adjustments=report.adjustments, report=None)


def apply_rules(results: dict[str, StudentResult], students: tuple[Student, ...], rules: ClassRules,
                outdir: Path, graded_now: set[str], renderers: dict[str, Callable[[Report], str]],
                formats: tuple[str, ...]) -> None:
    """Lay ``rules`` over every graded student of ``results`` (in place), and write again the report
    files whose adjustments changed. One student's failure costs only their own adjusted pages."""
    stamps = _read_stamps(outdir)
    for student in students:
        result = results.get(student.id)
        if result is None or not result.graded:
            continue
        if student.id in graded_now:  # their pages were just written, as graded
            stamps.pop(student.slug, None)
        shown = stamps.get(student.slug, "")
        if not rules.active and not shown:
            continue
        record = read_record(outdir, student.slug, full=True)
        if record is None or record.report is None:
            continue
        report = adjusted_report(record.report, student, rules) if rules.active else record.report
        digest = _digest(report.adjustments)
        if report.adjustments:
            results[student.id] = adjusted_result(result, report)
        if digest == shown:
            continue
        try:
            for fmt in formats:
                write_atomic(report_path(outdir, student.slug, fmt), renderers[fmt](report))
        except Exception:  # their pages are not rewritten (the stamp says so: tried again next run)
            stamps[student.slug] = "unwritten"
            continue
        if digest:
            stamps[student.slug] = digest
        else:
            stamps.pop(student.slug, None)
    write_atomic(outdir / STAMPS, json.dumps(stamps, sort_keys=True))


def _digest(adjustments: tuple[Adjustment, ...]) -> str:
    if not adjustments:
        return ""
    text = json.dumps([asdict(a) for a in adjustments], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _read_stamps(outdir: Path) -> dict[str, str]:
    try:
        data = json.loads((outdir / STAMPS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def adjusted_data(data: dict, result: StudentResult) -> dict:
    """A record's report data (``Report.to_dict()``) as ``result``'s adjustments left it."""
    data = dict(data, exercises=[dict(e) for e in data.get("exercises", ())])
    for exercise in data["exercises"]:
        summary = result.exercise(str(exercise.get("id")))
        if summary is not None:
            exercise.update(score=summary.score, status=summary.status)
    data.update(score=result.score, raw_score=result.raw_score, penalty=result.penalty,
                adjustments=[asdict(a) for a in result.adjustments])
    return data


@dataclass(frozen=True)
class OverviewRow:
    student: StudentResult
    change: str  # "late by 1d2h", "late (LATE mark, no time)", "override: numerical_diff"
    before: float
    after: float
    why: str


def overview_rows(class_report) -> list[OverviewRow]:
    """The overview's list of late work and overrides (its section "Late work and overrides"), in English
    like the rest of the page: late work first, latest first, then overrides by student."""
    from .late import late_text

    late, changed = [], []
    for student in class_report.students:
        for a in student.adjustments:
            if a.kind == "late":
                policy = a.reason.split(";", 1)[0]
                when = f"late by {late_text(a.late_seconds)}" if a.late_seconds is not None else "late (LATE mark, no time)"
                why = (f"handed in {a.submitted_at.replace('T', ' ')}; " if a.submitted_at else "") + (
                    f"policy {policy}: {a.percent:g}% taken" if a.percent else f"policy {policy}: in the grace period")
                late.append((-(a.late_seconds or 0.0), OverviewRow(student, when, a.before, a.after, why)))
            else:
                why = a.reason or "(no reason given)"
                changed.append(OverviewRow(student, f"override: {a.exercise} ({a.status})", a.before, a.after, why))
    return [row for _key, row in sorted(late, key=lambda item: item[0])] + changed
