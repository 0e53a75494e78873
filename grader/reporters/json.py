"""``--format json``: the report's plain dump, stable for CI and LMS tools.

Besides the verdicts it carries ``grader_version``, ``graded_at`` (ISO 8601, UTC),
``duration`` (seconds, also per exercise) and ``assignment`` (the exercise set graded).
"""
from __future__ import annotations

import json

from ..hookspecs import hookimpl
from ..report import Report
from .safe_text import json_safe


def render(report: Report, tty: bool = False) -> str:
    return json_safe(json.dumps(report.to_dict(run_info=True), ensure_ascii=False, indent=2)) + "\n"


@hookimpl
def grader_reporters() -> dict:
    return {"json": render}
