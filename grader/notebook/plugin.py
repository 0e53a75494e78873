"""The plugin a warm grading process registers for its one grading: the kernel's history as a
loader, and the ``notebook`` report format (the inline view, the plain text and the report's
data, as one JSON document for the kernel)."""
from __future__ import annotations

import json

from ..hookspecs import hookimpl
from ..report import Report
from ..reporters.json import render as json_render
from . import history
from .view import Graded, render_html, render_text, with_submission

GRADED: list[Graded] = []  # what this process grades (set by warm.py before the grading)


def render(report: Report, tty: bool = False) -> str:
    graded = GRADED[0] if GRADED else Graded("file", report.submission)
    if graded.kind == "history":
        report = with_submission(report, graded.name)
    return json.dumps({"html": render_html(report, graded), "text": render_text(report, graded),
                       "report": json.loads(json_render(report))}, ensure_ascii=False)


@hookimpl
def grader_loaders() -> list:
    return list(history.ACTIVE)


@hookimpl
def grader_reporters() -> dict:
    return {"notebook": render}
