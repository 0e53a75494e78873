"""``--format json``: the report's plain dump, stable for CI and LMS tools.

Besides the verdicts it carries ``grader_version``, ``graded_at`` (ISO 8601, UTC),
``duration`` (seconds, also per exercise) and ``assignment`` (the exercise set graded).
A hidden case shows only its name and verdict, as in every other format (reporters/visibility.py).
"""
from __future__ import annotations

import json

from ..hookspecs import hookimpl
from ..i18n import use
from ..report import Report
from .safe_text import json_safe
from .visibility import student_report


def render(report: Report, tty: bool = False) -> str:
    with use(report.lang):  # a hidden case's fixed message, in the student's language
        data = student_report(report).to_dict(run_info=True)
    return json_safe(json.dumps(data, ensure_ascii=False, indent=2)) + "\n"


@hookimpl
def grader_reporters() -> dict:
    return {"json": render}
