"""What the terminal report shows, before anything draws it: a table, lines, panels of styled text.

Two renderers draw it: rich (terminal_text.py: colours, and any text at all) and a plain one
(plain_text.py: no colour, the common text, without loading rich), which must give the same
characters. So the panels' text is kept as pieces, each either a piece of the grader's own
markup, written with its plain text beside it, or a piece of report text that rich's markup
escape protects: the rich renderer joins the markup, the plain one the text.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..i18n import _, ngettext
from . import labels
from .adjustment_notes import adjustment_notes
from .book_notes import book_notes
from .safe_text import displayable
from .visibility import student_view
from ..report import ExerciseResult, Report

STYLE = {"passed": ("✔", "green"), "partial": ("◐", "yellow"), "failed": ("✘", "red"),
         "missing": ("∅", "magenta"), "error": ("✘", "red"), "timeout": ("⧗", "red")}
MAX_FAILURES_SHOWN = 4


@dataclass(frozen=True)
class Tag:
    """The grader's own markup (``[bold]✘ ``) and the text it shows (``✘ ``)."""
    markup: str
    plain: str


# A piece of a panel's text: a Tag, or report text (str) that is shown as it is.
Piece = "Tag | str"


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    right_aligned: tuple[bool, ...]
    dim: tuple[bool, ...]                        # the column's style (colour only)
    fold: tuple[bool, ...]                       # a long value folds onto the next line, never "…"
    no_wrap: tuple[bool, ...]                    # kept whole: never narrowed to fit
    rows: tuple[tuple[str, ...], ...]
    row_colours: tuple[tuple[str | None, ...], ...]  # each cell's own colour, or None


@dataclass(frozen=True)
class Line:
    text: str
    style: str


@dataclass(frozen=True)
class Panel:
    title: str
    title_is_markup: bool   # rich reads a str title as markup (with emoji codes); a Text one as text
    border: str
    parts: tuple[tuple, ...]  # lines of pieces, joined by line breaks


@dataclass(frozen=True)
class Layout:
    items: tuple  # Table, Line and Panel, in the order they are shown


def status_label(status: str) -> tuple[str, str]:
    mark, colour = STYLE[status]
    return f"{mark} {_(labels.STATUS[status])}", colour


def layout(report: Report, width: int | None = None) -> Layout:
    """What the terminal report shows of ``report``, in the current language, for a terminal
    ``width`` cells wide (None: any width)."""
    report = displayable(report)  # no escape sequence of the student's reaches the terminal
    items: list = [_table(report, width)]
    total_colour = "green" if report.all_passed else "yellow"
    items.append(Line(_(labels.SCORE).format(score=report.score, max_score=report.max_score), f"bold {total_colour}"))
    if report.isolation:
        items.append(Line(_(labels.ISOLATION).format(level=report.isolation), "dim"))
    items += [Line(note, "dim") for note in book_notes(report)]
    items += [Line(note, "yellow") for note in adjustment_notes(report)]
    if report.error:
        items.append(Line(report.error, "bold red"))
    for e in report.exercises:
        parts = _exercise_details(e, report.submission)
        if parts:
            label, colour = status_label(e.status)
            items.append(Panel(f"{e.id} · {label}", False, colour, parts))
    if report.statements:
        # One piece for all the lines: escaped one by one, a "[" ending one line and a "]" in the next
        # would read as a style tag to rich, and the text between them would be lost.
        text = "\n".join(f"{s.place}: {s.message}" for s in report.statements)
        items.append(Panel(_(labels.NOT_RUN), True, "dim", ((text,),)))
    return Layout(tuple(items))


# The table's columns: exercise, section, status, checks, points, what was graded.
_RIGHT = (False, False, False, True, True, False)
_DIM = (False, True, False, False, False, True)
_FOLD = (False, False, False, False, False, True)
# Kept whole, never narrowed: a name or a score cut short with "…" says nothing.
_NO_WRAP = (True, False, True, True, True, False)
GRADED = 5
# What goes, in turn, from a terminal too narrow for the rest (what was graded wrapped at its
# spaces): the section, then what was graded, then the checks. The exercise, its status and its
# points stay; below about 48 columns even they are narrowed (rich's last resort).
_DROPPED_FIRST = (1, GRADED, 3)


def _table(report: Report, width: int | None) -> Table:
    columns = [[_(labels.EXERCISE)], ["§"], [_(labels.STATUS_HEADER)], [_(labels.CHECKS)], [_(labels.POINTS)],
               [_(labels.GRADED)]]
    colours = []
    for e in report.exercises:
        label, colour = status_label(e.status)
        counted = [c for c in e.checks if not c.skipped]
        passed = sum(c.passed for c in counted)
        row = (e.id, e.section, label, f"{passed}/{len(counted)}" if counted else "-",
               f"{e.score:g}/{e.max_score:g}", e.graded_name)
        for column, cell in zip(columns, row):
            column.append(cell)
        colours.append((None, None, colour, None, None, None))
    kept = list(range(len(columns)))
    for dropped in _DROPPED_FIRST:
        if width is None or _least_width([columns[i] for i in kept], [i == GRADED for i in kept]) <= width:
            break
        kept.remove(dropped)

    def pick(values) -> tuple:
        return tuple(values[i] for i in kept)
    return Table(f"dlfs-grader · {report.submission}", pick([c[0] for c in columns]), pick(_RIGHT), pick(_DIM),
                 pick(_FOLD), pick(_NO_WRAP), tuple(zip(*(columns[i][1:] for i in kept))),
                 tuple(pick(row) for row in colours))


GRADED_ROOM = 16  # what was graded keeps its column while it has room for this much of a name (it folds)


def _least_width(columns: list[list[str]], wrapping: list[bool]) -> int:
    """The table's width with each column as wide as its widest line, or a wrapping one as its
    longest word (at most GRADED_ROOM: a longer name folds): a space each side of a cell, and the bars."""
    from .terminal_cells import cells
    widths = [min(max((cells(word) for cell in column for word in cell.split()), default=0), GRADED_ROOM) if wraps
              else max(cells(line) for cell in column for line in cell.split("\n"))
              for column, wraps in zip(columns, wrapping)]
    return sum(w + 3 for w in widths) + 1


def _exercise_details(e: ExerciseResult, submission: str) -> tuple[tuple, ...]:
    # The named mistake first: it explains the failures listed after it.
    parts: list[tuple] = [(e.message,)] if e.message else []
    for d in e.diagnoses:
        parts.append((Tag("[yellow]→ ", "→ "), d.message, Tag("[/yellow] [dim](", " ("), d.id, Tag(")[/dim]", ")")))
    failing = [student_view(c) for c in e.checks if not c.passed and not c.skipped]
    for c in failing[:MAX_FAILURES_SHOWN]:
        parts.append((Tag("[bold]✘ ", "✘ "), c.name, Tag("[/bold]\n  ", "\n  "), c.message))
        if c.hint:
            parts.append((Tag("  [cyan]", "  "), _(labels.HINT), Tag("[/cyan] ", " "), c.hint))
        if c.reproduce and c is next(f for f in failing if f.reproduce):  # one per exercise: the report stays short
            code = "\n".join("    " + line for line in c.reproduce.splitlines())
            parts.append((Tag("  [dim]", "  "), _(labels.REPRODUCE), Tag(":[/dim]\n", ":\n"), code))
    if len(failing) > MAX_FAILURES_SHOWN:
        more = len(failing) - MAX_FAILURES_SHOWN
        # The command to run as it is: the submission's path, quoted for the shell.
        import shlex
        path = shlex.quote(submission)
        parts.append((Tag("[dim]", ""), ngettext(*labels.MORE_FAILURES, more).format(count=more, path=path),
                      Tag("[/dim]", "")))
    return tuple(parts)
