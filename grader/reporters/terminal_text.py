"""``--format terminal`` (the default): a rich table, then what went wrong and how to fix it.

The renderables are built from the report alone; printing them is the console's job. The plugin
that offers this renderer is grader/reporters/terminal.py: this module imports no pluggy, so that
the render process (render_process.py) loads only what rendering needs.
"""
from __future__ import annotations

import io
import os

from ..i18n import _, ngettext, use
from . import labels
from .safe_text import displayable
from .visibility import student_view
from ..report import ExerciseResult, Report

STYLE = {"passed": ("✔", "green"), "partial": ("◐", "yellow"), "failed": ("✘", "red"),
         "missing": ("∅", "magenta"), "error": ("✘", "red"), "timeout": ("⧗", "red")}


def status_label(status: str) -> tuple[str, str]:
    mark, colour = STYLE[status]
    return f"{mark} {_(labels.STATUS[status])}", colour


def renderables(report: Report) -> list:
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    report = displayable(report)  # no escape sequence of the student's reaches the terminal
    table = Table(title=Text(f"dlfs-grader · {report.submission}"), title_justify="left", expand=False)
    table.add_column(_(labels.EXERCISE))
    table.add_column("§", style="dim")
    table.add_column(_(labels.STATUS_HEADER))
    table.add_column(_(labels.CHECKS), justify="right")
    table.add_column(_(labels.POINTS), justify="right")
    table.add_column(_(labels.GRADED), style="dim", overflow="fold")
    for e in report.exercises:
        label, colour = status_label(e.status)
        counted = [c for c in e.checks if not c.skipped]
        passed = sum(c.passed for c in counted)
        # Text, not str: rich would read [brackets] in a name or a section as markup.
        table.add_row(Text(e.id), Text(e.section), Text(label, style=colour),
                      f"{passed}/{len(counted)}" if counted else "-", f"{e.score:g}/{e.max_score:g}",
                      Text(e.graded_name))
    total_colour = "green" if report.all_passed else "yellow"
    score = _(labels.SCORE).format(score=report.score, max_score=report.max_score)
    out: list = [table, Text(score, style=f"bold {total_colour}")]
    if report.isolation:
        out.append(Text(_(labels.ISOLATION).format(level=report.isolation), style="dim"))
    if report.error:
        out.append(Text(report.error, style="bold red"))
    for e in report.exercises:
        body = _exercise_details(e, escape, report.submission)
        if body:
            label, colour = status_label(e.status)
            out.append(Panel(body, title=Text(f"{e.id} · {label}"), title_align="left", border_style=colour))
    if report.statements:
        lines = [f"{escape(s.place)}: {escape(s.message)}" for s in report.statements]
        out.append(Panel("\n".join(lines), title=_(labels.NOT_RUN),
                         title_align="left", border_style="dim"))
    return out


MAX_FAILURES_SHOWN = 4


def _exercise_details(e: ExerciseResult, escape, submission: str) -> str:
    # The named mistake first: it explains the failures listed after it.
    parts = [escape(e.message)] if e.message else []
    for d in e.diagnoses:
        parts.append(f"[yellow]→ {escape(d.message)}[/yellow] [dim]({escape(d.id)})[/dim]")
    failing = [student_view(c) for c in e.checks if not c.passed and not c.skipped]
    for c in failing[:MAX_FAILURES_SHOWN]:
        parts.append(f"[bold]✘ {escape(c.name)}[/bold]\n  {escape(c.message)}")
        if c.hint:
            parts.append(f"  [cyan]{escape(_(labels.HINT))}[/cyan] {escape(c.hint)}")
    if len(failing) > MAX_FAILURES_SHOWN:
        more = len(failing) - MAX_FAILURES_SHOWN
        # The command to run as it is: the submission's path, quoted for the shell.
        import shlex
        path = shlex.quote(submission)
        parts.append(f"[dim]{escape(ngettext(*labels.MORE_FAILURES, more).format(count=more, path=path))}[/dim]")
    return "\n".join(parts)


def render(report: Report, tty: bool = False) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    color = (tty or "FORCE_COLOR" in os.environ) and "NO_COLOR" not in os.environ
    width = 110
    if tty:  # shutil (with bz2 and lzma) only to ask a terminal its width
        import shutil
        width = shutil.get_terminal_size((110, 24)).columns
    # emoji=False: a student's ":warning:" stays text.
    console = Console(file=buffer, width=width, force_terminal=color, color_system="truecolor" if color else None,
                      highlight=False, soft_wrap=False, emoji=False)
    with use(report.lang):
        for item in renderables(report):
            console.print(item)
    return buffer.getvalue()


# What render imports, smallest first: `grade` imports them one a bite while it waits for the
# worker (cli._prepare_reports). A name rich no longer has is skipped; what is left loads at render.
render.prepare = ("rich.color", "rich.style", "rich.theme", "rich.segment", "rich.containers", "rich.text",
                  "rich.highlighter", "rich.markup", "rich.console", "rich.box", "rich.padding", "rich.table",
                  "rich.panel")
