"""``--format gradescope``: Gradescope's ``results.json`` for an autograder.

The fields are the ones Gradescope documents for autograder results: a top-level
``score`` and ``output``, and ``tests``, each with ``name``, ``score``, ``max_score``,
``status`` ("passed"/"failed"), ``output`` and ``visibility``. An exercise's points are
shared among its checks by weight, so the tests add up to the report's score.
"""
from __future__ import annotations

import json

from ..hookspecs import hookimpl
from ..i18n import _, use
from ..report import Report
from . import labels
from .adjustment_notes import adjustment_notes
from .book_notes import book_notes
from .safe_text import displayable, json_safe
from .visibility import student_view


def results(report: Report) -> dict:
    tests = []
    for exercise in report.exercises:
        counted = [student_view(c) for c in exercise.checks if not c.skipped]
        total = sum(c.weight for c in counted)
        if not counted:
            tests.append({"name": f"{exercise.id}: {exercise.title}", "number": exercise.id, "score": 0.0,
                          "max_score": exercise.max_score, "status": "failed", "output": exercise.message,
                          "visibility": "visible"})
            continue
        notes = "\n".join(f"{_(labels.DIAGNOSIS)}: {d.message}" for d in exercise.diagnoses)
        for number, check in enumerate(counted, start=1):
            share = round(exercise.max_score * check.weight / total, 4)
            output = "\n".join(p for p in (check.message, f"{_(labels.HINT)} {check.hint}" if check.hint else "",
                                           notes if not check.passed else "") if p)
            tests.append({"name": f"{exercise.id}: {check.name}", "number": f"{exercise.id}.{number}",
                          "score": share if check.passed else 0.0, "max_score": share,
                          "status": "passed" if check.passed else "failed", "output": output,
                          "visibility": "visible"})
    summary = _(labels.SCORE).format(score=report.score, max_score=report.max_score)
    summary += "\n" + _(labels.ISOLATION).format(level=report.isolation)
    summary += "".join("\n" + note for note in book_notes(report) + adjustment_notes(report))
    if report.error:  # why nothing (or not everything) was graded
        summary += "\n" + report.error
    return {"score": report.score, "max_score": report.max_score, "output": summary, "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests}


def render(report: Report, tty: bool = False) -> str:
    with use(report.lang):
        return json_safe(json.dumps(results(displayable(report)), ensure_ascii=False, indent=2)) + "\n"


@hookimpl
def grader_reporters() -> dict:
    return {"gradescope": render}
