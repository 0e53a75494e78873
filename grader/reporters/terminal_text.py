"""``--format terminal`` (the default): a table, then what went wrong and how to fix it.

What the report shows is laid out once (terminal_layout.py). terminal_draw.py draws it, in colour
or not, without loading rich, whenever it can give the very text rich would; rich draws the
layouts it declines (a tab in a message, an emoji, a terminal too narrow for the table).
The plugin that offers this renderer is grader/reporters/terminal.py.
"""
from __future__ import annotations

import io
import os

from ..i18n import use
from .terminal_layout import Layout, Line, Table, Tag, layout
from ..report import Report

PIPE_WIDTH = 110  # a report written to a pipe or a file


def uses_colour(tty: bool) -> bool:
    """Does the terminal report for this output have colours? A terminal has them, or FORCE_COLOR asks
    for them; NO_COLOR turns them off. Set to an empty string, either is not set (no-color.org,
    force-color.org)."""
    return (tty or os.environ.get("FORCE_COLOR", "") != "") and os.environ.get("NO_COLOR", "") == ""


def renderables(report: Report) -> list:
    """The report as rich renderables, in the current language."""
    return _rich_renderables(layout(report))


def _rich_renderables(shown: Layout) -> list:
    from rich.markup import escape
    from rich.panel import Panel as RichPanel
    from rich.table import Table as RichTable
    from rich.text import Text

    out: list = []
    for item in shown.items:
        if isinstance(item, Table):
            table = RichTable(title=Text(item.title), title_justify="left", expand=False)
            for header, right, dim, fold, no_wrap in zip(item.headers, item.right_aligned, item.dim, item.fold,
                                                         item.no_wrap):
                table.add_column(header, style="dim" if dim else None, justify="right" if right else "left",
                                 no_wrap=no_wrap, **({"overflow": "fold"} if fold else {}))
            for row, colours in zip(item.rows, item.row_colours):
                # Text, not str: rich would read [brackets] in a name or a section as markup.
                table.add_row(*(Text(cell, style=colour or "") for cell, colour in zip(row, colours)))
            out.append(table)
        elif isinstance(item, Line):
            out.append(Text(item.text, style=item.style))
        else:
            body = "\n".join("".join(p.markup if isinstance(p, Tag) else escape(p) for p in part)
                             for part in item.parts)
            out.append(RichPanel(body, title=item.title if item.title_is_markup else Text(item.title),
                                 title_align="left", border_style=item.border))
    return out


def report_width(tty: bool) -> int:
    """How many columns the report is drawn in: COLUMNS when it is set (as rich and most tools read
    it, a terminal or not: `COLUMNS=80 grade sub.py > report.txt`), else the terminal's width, else
    PIPE_WIDTH. Kept between 20 and 1000: narrower, no table fits; wider, no line is read."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return min(max(int(columns), 20), 1000)
    if tty:  # shutil (with bz2 and lzma) only to ask a terminal its width
        import shutil
        return shutil.get_terminal_size((PIPE_WIDTH, 24)).columns
    return PIPE_WIDTH


def render(report: Report, tty: bool = False) -> str:
    colour = uses_colour(tty)
    width = report_width(tty)
    with use(report.lang):
        shown = layout(report, width)
    from .terminal_draw import draw
    text = draw(shown, width, colour)
    return text if text is not None else rich_text(shown, width, colour)


def rich_text(shown: Layout, width: int, colour: bool = False) -> str:
    """The layout drawn by rich, ``width`` cells wide."""
    from rich.console import Console

    buffer = io.StringIO()
    # emoji=False: a student's ":warning:" stays text.
    # force_jupyter=False: in a notebook's kernel rich would display the report instead of writing it.
    console = Console(file=buffer, width=width, force_terminal=colour, color_system="truecolor" if colour else None,
                      highlight=False, soft_wrap=False, emoji=False, force_jupyter=False)
    for item in _rich_renderables(shown):
        console.print(item)
    return buffer.getvalue()
