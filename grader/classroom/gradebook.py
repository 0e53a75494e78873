"""The gradebook: ``gradebook.csv`` (one row per student) and ``gradebook.json`` (the same, plus every report).

Columns: ``student``, ``score`` (after any late penalty), ``max_score``, then for each exercise its
score and its status, then ``raw_score`` (before the late penalty), ``penalty``, ``submitted_at``,
``late_by`` (``1d2h``; ``LATE`` for a late mark without a time), ``overridden`` (the exercises a
teacher's override changed, ``;``-separated), then ``diagnoses`` (the ids of the mistakes found,
``;``-separated), ``seconds`` and ``error``.

The CSV is UTF-8 with a byte-order mark: without it Excel reads UTF-8 as the local code page
and shows Korean, Japanese or Chinese names as mojibake; LibreOffice and Python's csv module
accept the mark.

Names, file names and error messages come from submissions, and a spreadsheet runs a cell that
starts a formula. As OWASP recommends (CSV injection), every text cell is quoted, so that a
spreadsheet splitting on ``;`` (Excel in many locales) or a tab still sees one cell, and any
part of it that could start a formula (``=``, ``+``, ``-``, ``@``, a tab or a carriage return,
also after leading spaces) is prefixed with an apostrophe: at the start of the cell, and after
each ``;``, ``,``, tab or line break, in case a program splits the cell there all the same.
Numbers are the grader's own and stay numbers.
"""
from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from ..hookspecs import hookimpl

if TYPE_CHECKING:  # a single `grade` registers this plugin too: the class code loads only when a class is graded
    from .results import ClassReport, StudentResult

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Where a spreadsheet (or a program that ignores the quotes) may start a new cell: each piece after one
# of these, and the cell itself, is looked at on its own. Spaces before a formula do not stop it.
_PIECE = re.compile(r"(?:^|(?<=[;,\t\r\n]))[ ]*(?=[=+\-@\t\r])")
Cell = str | int | float


def header(class_report: ClassReport) -> list[str]:
    columns = ["student", "score", "max_score"]
    for exercise in class_report.exercises:
        columns += [exercise.id, f"{exercise.id}_status"]
    columns += ["raw_score", "penalty", "submitted_at", "late_by", "overridden"]
    return [cell_text(c) for c in columns + ["diagnoses", "seconds", "error"]]


def row(class_report: ClassReport, student: StudentResult) -> list[Cell]:
    cells: list[Cell] = [cell_text(student.student), _number(student.score), _number(class_report.max_score)]
    for exercise in class_report.exercises:
        result = student.exercise(exercise.id)
        cells += [_number(result.score) if result else "", cell_text(result.status) if result else ""]
    cells += late_cells(student) + [cell_text(";".join(a.exercise for a in student.overrides()))]
    error = " ".join(student.error.split())
    return cells + [cell_text(";".join(student.diagnoses())), _number(round(student.seconds, 2)), cell_text(error)]


def late_cells(student: StudentResult) -> list[Cell]:
    """raw_score, penalty, submitted_at, late_by: empty for a student not graded."""
    from .late import late_text

    if not student.graded:
        return ["", "", "", ""]
    late = student.late()
    when = late.submitted_at if late else ""
    late_by = "" if late is None else late_text(late.late_seconds) if late.late_seconds is not None else "LATE"
    return [_number(student.raw_score), _number(student.penalty), cell_text(when), cell_text(late_by)]


def cell_text(text: str) -> str:
    """``text`` that no spreadsheet runs as a formula, however it splits the cell (see the module's text)."""
    return _PIECE.sub(lambda m: "'" + m.group(), text)


def _number(value: float) -> int | float:
    """A number as the gradebook shows it (``31.25``, ``100``): written unquoted, read as a number."""
    shown = float(f"{value:g}")
    return int(shown) if shown.is_integer() else shown


def render_csv(class_report: ClassReport) -> str:
    import csv

    buffer = io.StringIO()
    # RFC 4180 line ends, as Excel writes them; every text cell quoted, numbers not (they stay numbers).
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(header(class_report))
    for student in class_report.students:
        writer.writerow(row(class_report, student))
    return "\ufeff" + buffer.getvalue()


def render_json(class_report: ClassReport) -> Iterator[str]:
    """The JSON gradebook in pieces: each student's full report is read from OUTDIR, written, and let go."""
    head = {"submissions": class_report.submissions, "complete": class_report.complete,
            "max_score": class_report.max_score,
            "exercises": [{"id": e.id, "title": e.title, "max_score": e.max_score} for e in class_report.exercises],
            "pending": list(class_report.pending),
            "ignored": [{"entry": name, "why": why} for name, why in class_report.ignored]}
    yield json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "students": ['
    for number, s in enumerate(class_report.students):
        report = class_report.report_data_of(s) if s.graded else None
        if report is not None and s.adjustments:
            from .adjusting import adjusted_data
            report = adjusted_data(report, s)
        entry = {"student": s.student, "slug": s.slug, "files": list(s.files), "layout": s.layout, "lang": s.lang,
                 "score": s.score, "raw_score": s.raw_score, "penalty": s.penalty,
                 "max_score": class_report.max_score, "seconds": s.seconds,
                 "diagnoses": s.diagnoses(), "error": s.error, "error_kind": s.error_kind, "notes": list(s.notes),
                 "report": report}
        yield ("," if number else "") + "\n  " + json.dumps(entry, ensure_ascii=False)
    yield "\n ]\n}\n"


@hookimpl
def grader_class_report(class_report: ClassReport, outdir: Path) -> list[Path]:
    from .results import write_atomic

    csv_path, json_path = outdir / "gradebook.csv", outdir / "gradebook.json"
    # The BOM is part of the text: plain UTF-8 encoding writes it as the three bytes EF BB BF.
    write_atomic(csv_path, render_csv(class_report))
    write_atomic(json_path, render_json(class_report))
    return [csv_path, json_path]
