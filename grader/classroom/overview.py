"""``index.html``: the class overview, one self-contained page (inline CSS and SVG, opens from disk).

First the plots an instructor would rather look at than read (the score distribution, each
exercise's passed / partial / failed / missing, the misconceptions ranked by how many students
show them, the time per submission), then the misconceptions with the students who show
them, the list of what needs the instructor's eye, and a table linking every student's report.
Everything that came from a submission (names, file names, messages) goes through jinja2's
autoescaping; the plots hold only the grader's own ids and numbers.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from ..hookspecs import hookimpl

if TYPE_CHECKING:  # a single `grade` registers this plugin too: the class code loads only when a class is graded
    from .results import ClassReport, StudentResult

FAILED_LIKE = {"failed", "error", "timeout"}
EYE_STATUSES = {"timeout": "an exercise timed out", "error": "an exercise raised errors throughout"}


@dataclass(frozen=True)
class Attention:
    student: StudentResult
    reason: str


def exercise_counts(class_report: ClassReport) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {e.id: Counter() for e in class_report.exercises}
    for student in class_report.students:
        for exercise in class_report.exercises:
            status = student.status_of(exercise.id)
            bucket = "not graded" if not status else "failed" if status in FAILED_LIKE else status
            counts[exercise.id][bucket] += 1
    return counts


def misconception_table(class_report: ClassReport) -> list[tuple[str, str, list[StudentResult]]]:
    """(diagnosis id, the mistake in general terms in the overview's language, the students showing
    it), most students first (see overview_terms: never one student's wording for all)."""
    from .overview_terms import general_message

    students: dict[str, list[StudentResult]] = defaultdict(list)
    first: dict[str, tuple[str, str]] = {}  # id -> (a student's message, its language)
    for student in class_report.students:
        for exercise in student.exercises:
            for diagnosis in exercise.diagnoses:
                if student not in students[diagnosis.id]:
                    students[diagnosis.id].append(student)
                first.setdefault(diagnosis.id, (diagnosis.message, student.lang))
    ranked = sorted(students, key=lambda d: (-len(students[d]), d))
    return [(d, general_message(d, *first[d], lang=class_report.lang), students[d]) for d in ranked]


def needs_attention(class_report: ClassReport) -> list[Attention]:
    items: list[Attention] = []
    for student in class_report.students:
        if student.error:
            what = {"unreadable": "could not be read", "timeout": "timed out", "crash": "crashed the grading process",
                    "internal": "hit a grader error"}.get(student.error_kind, "error")
            items.append(Attention(student, f"{what}: {student.error}"))
            continue
        statuses = {e.status for e in student.exercises}
        for status, why in EYE_STATUSES.items():
            if status in statuses:
                names = ", ".join(e.id for e in student.exercises if e.status == status)
                items.append(Attention(student, f"{why} ({names})"))
        if "hard-coded" in student.diagnoses():
            names = ", ".join(e.id for e in student.exercises if any(d.id == "hard-coded" for d in e.diagnoses))
            items.append(Attention(student, f"hard-coded answers ({names})"))
        for note in student.notes:
            items.append(Attention(student, note))
    return items


def render(class_report: ClassReport) -> str:
    from jinja2 import Environment, PackageLoader

    from . import plots
    from .overview_similar import similar_section
    from .results import REPORTS

    graded = [s for s in class_report.students if s.graded]
    table = misconception_table(class_report)
    counts = exercise_counts(class_report)
    figures = {
        "scores": plots.score_distribution([s.score for s in graded], class_report.max_score),
        "exercises": plots.exercise_outcomes(counts),
        "misconceptions": plots.misconceptions([(d, len(students)) for d, _m, students in table]),
        "times": plots.grading_times([s.seconds for s in class_report.students]),
    }
    scores = sorted(s.score for s in graded)
    summary = {
        "students": len(class_report.students), "graded": len(graded), "errors": len(class_report.in_error()),
        "mean": sum(scores) / len(scores) if scores else 0.0,
        "median": (scores[len(scores) // 2] + scores[(len(scores) - 1) // 2]) / 2 if scores else 0.0,
        "full": sum(1 for s in graded if s.score >= class_report.max_score),
        "seconds": sum(s.seconds for s in class_report.students),
    }
    # Autoescaping on for every value: names, files and messages come from submissions.
    env = Environment(loader=PackageLoader("grader.classroom", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    from .adjusting import overview_rows

    return env.get_template("overview.html.j2").render(
        report=class_report, figures=figures, table=table, counts=counts, summary=summary,
        attention=needs_attention(class_report), reports=REPORTS, after_grading=overview_rows(class_report),
        similar=similar_section(class_report))


@hookimpl
def grader_class_grading_started(outdir: Path) -> None:
    from . import plots

    plots.prepare_in_background()


@hookimpl
def grader_class_report(class_report: ClassReport, outdir: Path) -> list[Path]:
    from .results import write_atomic

    path = outdir / "index.html"
    write_atomic(path, render(class_report))
    return [path]
