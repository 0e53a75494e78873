"""``--format markdown``: a summary table for a CI job summary (``$GITHUB_STEP_SUMMARY``)."""
from __future__ import annotations

from ..hookspecs import hookimpl
from ..i18n import _, use
from ..report import Report
from . import labels
from .visibility import student_view

MARKS = {"passed": "✅", "partial": "🟡", "failed": "❌", "missing": "⬜", "error": "❌", "timeout": "⏱️"}


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render(report: Report, tty: bool = False) -> str:
    with use(report.lang):
        lines = [f"## {_(labels.TITLE)}: `{_cell(report.submission)}`", "",
                 f"**{_(labels.SCORE).format(score=report.score, max_score=report.max_score)}**", "",
                 f"_{_(labels.ISOLATION).format(level=_cell(report.isolation))}_", "",
                 f"| {_(labels.EXERCISE)} | § | {_(labels.STATUS_HEADER)} | {_(labels.CHECKS)} | {_(labels.POINTS)} |",
                 "| --- | --- | --- | ---: | ---: |"]
        for e in report.exercises:
            counted = [c for c in e.checks if not c.skipped]
            passed = sum(c.passed for c in counted)
            lines.append(f"| {_cell(e.title)} (`{e.id}`) | {e.section} | {MARKS[e.status]} {_(labels.STATUS[e.status])} "
                         f"| {passed}/{len(counted)} | {e.score:g} / {e.max_score:g} |")
        problems = [e for e in report.exercises if e.status != "passed"]
        if problems:
            lines += ["", f"### {_(labels.FAILED_CHECKS)}", ""]
        for e in problems:
            lines.append(f"<details><summary><b>{_cell(e.title)}</b>: {_(labels.STATUS[e.status])}</summary>")
            lines.append("")
            if e.message:
                lines.append(f"- {_cell(e.message)}")
            for d in e.diagnoses:
                lines.append(f"- **{_(labels.DIAGNOSIS)}** (`{d.id}`): {_cell(d.message)}")
            for c in map(student_view, e.checks):
                if not c.passed and not c.skipped:
                    hint = f" {_(labels.HINT)} {_cell(c.hint)}" if c.hint else ""
                    lines.append(f"- ❌ {_cell(c.name)}: {_cell(c.message)}{hint}")
            lines += ["", "</details>", ""]
        return "\n".join(lines).rstrip() + "\n"


@hookimpl
def grader_reporters() -> dict:
    return {"markdown": render}
