"""``--format markdown``: a summary table for a CI job summary (``$GITHUB_STEP_SUMMARY``).

Every value from the submission goes through :func:`safe_text.markdown`: a student's
message cannot break a table row, open an HTML tag or a code span, or inject a link.
Exercise and diagnosis ids (from the exercise specs, ``[a-z0-9_-]``) stay code spans.
"""
from __future__ import annotations

from ..hookspecs import hookimpl
from ..i18n import _, use
from ..report import Report
from . import labels
from .adjustment_notes import ADJUSTMENTS, adjustment_notes
from .book_notes import book_notes
from .safe_text import markdown as md
from .visibility import student_view

MARKS = {"passed": "✅", "partial": "🟡", "failed": "❌", "missing": "⬜", "error": "❌", "timeout": "⏱️"}


def render(report: Report, tty: bool = False) -> str:
    with use(report.lang):
        lines = [f"## {md(_(labels.TITLE))}: <code>{md(report.submission)}</code>", "",
                 f"**{md(_(labels.SCORE).format(score=report.score, max_score=report.max_score))}**", ""]
        lines += [f"_{md(_(labels.ISOLATION).format(level=report.isolation))}_", ""]
        lines += [line for note in book_notes(report) for line in (f"_{md(note)}_", "")]
        if report.error:
            lines += [f"> {md(report.error)}", ""]
        if report.adjustments:
            lines += [f"### {md(_(ADJUSTMENTS))}", ""] + [f"- {md(note)}" for note in adjustment_notes(report)] + [""]
        lines += [f"| {md(_(labels.EXERCISE))} | § | {md(_(labels.STATUS_HEADER))} | {md(_(labels.CHECKS))} | "
                  f"{md(_(labels.POINTS))} |",
                  "| --- | --- | --- | ---: | ---: |"]
        for e in report.exercises:
            counted = [c for c in e.checks if not c.skipped]
            passed = sum(c.passed for c in counted)
            lines.append(f"| {md(e.title)} (`{e.id}`) | {md(e.section)} | {MARKS.get(e.status, '')} "
                         f"{md(_(labels.STATUS.get(e.status, e.status)))} | {passed}/{len(counted)} | "
                         f"{e.score:g} / {e.max_score:g} |")
        problems = [e for e in report.exercises if e.status != "passed"]
        if problems:
            lines += ["", f"### {md(_(labels.FAILED_CHECKS))}", ""]
        for e in problems:
            lines.append(f"<details><summary><b>{md(e.title)}</b>: {md(_(labels.STATUS.get(e.status, e.status)))}"
                         "</summary>")
            lines.append("")
            if e.message:
                lines.append(f"- {md(e.message)}")
            for d in e.diagnoses:
                lines.append(f"- **{md(_(labels.DIAGNOSIS))}** (`{d.id}`): {md(d.message)}")
            for c in map(student_view, e.checks):
                if not c.passed and not c.skipped:
                    hint = f" {md(_(labels.HINT))} {md(c.hint)}" if c.hint else ""
                    lines.append(f"- ❌ {md(c.name)}: {md(c.message)}{hint}")
                    if c.reproduce:  # one escaped line per line of code, as everything else here
                        lines.append(f"  - {md(_(labels.REPRODUCE))}: " + "<br>".join(
                            md(line) for line in c.reproduce.splitlines()))
            lines += ["", "</details>", ""]
        return "\n".join(lines).rstrip() + "\n"


@hookimpl
def grader_reporters() -> dict:
    return {"markdown": render}
