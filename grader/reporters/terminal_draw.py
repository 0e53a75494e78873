"""The terminal report drawn without rich: the characters and colour codes rich writes, 25 ms sooner.

rich costs a `grade` about 15 ms to import and 8 ms for a first render, 15% of grading a short
notebook (issue 13). The report is a fixed layout (terminal_layout.py) of a table, lines and
panels, and rich's rules for it are few: word wrapping and column widths (terminal_cells.py),
the narrowing of columns that do not fit, and where a colour starts and ends. This module
applies them to the layouts it can promise to draw exactly as rich does, and declines (returns
None) every other one, which rich then draws: a tab, a character whose width varies between
the Unicode versions rich knows, a backslash rich's markup changes, a column with no room, a
very narrow terminal, Windows (whose old consoles rich draws differently).
tests/test_terminal_draw.py holds it to rich's own output, in colour and without, on every
fixture and on generated reports.
"""
from __future__ import annotations

import re
import sys

from .terminal_cells import Declined, breaks, cells, checked, crop, trailing_spaces
from .terminal_layout import Layout, Line, Panel, Table, Tag

MIN_WIDTH = 40
# The styles the layout uses, as the codes rich writes for them (attributes first, then the colour).
_ATTRIBUTES = {"bold": "1", "dim": "2"}
_COLOURS = {"red": "31", "green": "32", "yellow": "33", "magenta": "35", "cyan": "36"}
_TAG = re.compile(r"\[(/?)([a-z]+)\]|([^\[]+)")

# A run of text in one style (None: none); a line is a list of them. A span: (start, end, style).
Segment = tuple[str, "str | None"]


def draw(shown: Layout, width: int, colour: bool = False) -> str | None:
    """The report ``width`` cells wide, as rich writes it (with its colour codes when ``colour``);
    None when this module cannot promise that."""
    # On Windows rich may substitute boxes and colours for an old console: untested here, left to rich.
    if width < MIN_WIDTH or sys.platform == "win32":
        return None
    try:
        lines: list[list[Segment]] = []
        for item in shown.items:
            if isinstance(item, Table):
                lines += _table(item, width)
            elif isinstance(item, Line):
                text = checked(item.text)
                lines += [[(piece, item.style)] for piece, _ in _wrap(text, [], width)]
            else:
                lines += _panel(item, width)
        return "".join(_written(line, colour) + "\n" for line in lines)
    except Declined:
        return None
    except Exception:  # a mistake here must not cost the student the report: rich draws it then
        return None


def _written(line: list[Segment], colour: bool) -> str:
    if not colour:
        return "".join(text for text, _ in line)
    return "".join(f"\x1b[{_codes(style)}m{text}\x1b[0m" if style and text else text for text, style in line)


def _codes(style: str) -> str:
    words = style.split()
    if any(w not in _ATTRIBUTES and w not in _COLOURS for w in words):
        raise Declined(style)
    codes = [code for name, code in _ATTRIBUTES.items() if name in words]
    colours = [w for w in words if w in _COLOURS]
    return ";".join(codes + [_COLOURS[colours[-1]]] if colours else codes)


def _over(under: str | None, over: str | None) -> str | None:
    """A style laid over another: its colour wins, their attributes add up."""
    if not under or not over:
        return over or under
    return f"{under} {over}"


def _trim(spans: list, length: int) -> list:
    return [(s, min(e, length), style) for s, e, style in spans if s < length]


def _part(spans: list, begin: int, end: int) -> list:
    """The spans over text[begin:end], counted from ``begin``."""
    found = []
    for s, e, style in spans:
        s, e = max(0, s - begin), min(e - begin, end - begin)
        if e > s:
            found.append((s, e, style))
    return found


def _truncate(text: str, spans: list, width: int, fold: bool, pad: bool = False) -> tuple[str, list]:
    size = cells(text)
    if size > width:
        text = crop(text, width) if fold else crop(text, width - 1) + "…"
        spans = _trim(spans, len(text))
    if pad and size < width:
        text += " " * (width - size)
    return text, spans


def _wrap(text: str, spans: list, width: int, justify: str = "default", fold: bool = True,
          no_wrap: bool = False) -> list[tuple[str, list]]:
    """``text`` (with its spans) wrapped to ``width`` cells (or, ``no_wrap``, only cut short), each line
    as rich justifies it: "default" (as it is), "left" (filled with spaces to the width) or "right"."""
    out = []
    line_start = 0
    spans = sorted(spans)
    first = 0  # spans do not overlap (_segments declines those that do): each line needs only its own
    for line in text.split("\n"):
        line_end = line_start + len(line)
        while first < len(spans) and spans[first][1] <= line_start:
            first += 1
        last = first
        while last < len(spans) and spans[last][0] < line_end:
            last += 1
        line_spans = _part(spans[first:last], line_start, line_end)
        line_start = line_end + 1
        offsets = [0, *([] if no_wrap else breaks(line, width, fold)), len(line)]
        for begin, end in zip(offsets, offsets[1:]):
            piece, piece_spans = line[begin:end], _part(line_spans, begin, end)
            # Trailing spaces past the width go (counted in characters, as rich counts them).
            if len(piece) > width and not no_wrap:
                piece = piece[:len(piece) - min(trailing_spaces(piece), len(piece) - width)]
                piece_spans = _trim(piece_spans, len(piece))
            if justify == "left":
                piece, piece_spans = _truncate(piece, piece_spans, width, fold, pad=True)
            elif justify == "right":
                piece = piece.rstrip()
                piece, piece_spans = _truncate(piece, _trim(piece_spans, len(piece)), width, fold)
                shift = width - cells(piece)
                piece, piece_spans = " " * shift + piece, [(s + shift, e + shift, st) for s, e, st in piece_spans]
            out.append(_truncate(piece, piece_spans, width, fold))
    return out


def _segments(text: str, spans: list) -> list[Segment]:
    """A line's runs: a new one wherever a span starts or ends (two spans side by side in the same
    style are two runs, as rich writes them)."""
    out: list[Segment] = []
    at = 0
    for s, e, style in sorted(spans):
        if s < at:
            raise Declined("overlapping styles")
        if s > at:
            out.append((text[at:s], None))
        out.append((text[s:e], style))
        at = e
    if at < len(text):
        out.append((text[at:], None))
    return out


def _column_widths(natural: list[int], available: int, wrapping: list[bool]) -> list[int]:
    """rich's widths for columns that do not fit side by side: the widest of those that may wrap
    narrowed to the next widest, in turn, until they fit; failing that, all of them narrowed alike."""
    widths = list(natural)
    excess = sum(widths) - available
    while excess > 0 and any(wrapping):
        widest = max(w for w, wraps in zip(widths, wrapping) if wraps)
        difference = widest - max((w for w, wraps in zip(widths, wrapping) if wraps and w != widest), default=0)
        if not difference:
            break
        ratios = [int(wraps and w == widest) for w, wraps in zip(widths, wrapping)]
        widths = _reduce(excess, ratios, [min(excess, difference)] * len(widths), widths)
        excess = sum(widths) - available
    if excess > 0:
        widths = _reduce(excess, [1] * len(widths), widths, widths)
    return widths


def _reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """``total`` taken from ``values`` in proportion to ``ratios``, at most ``maximums`` from each
    (rounded as rich rounds: to the even number on a half)."""
    ratios = [ratio if maximum else 0 for ratio, maximum in zip(ratios, maximums)]
    left, ratio_left = total, sum(ratios)
    result = []
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and ratio_left > 0:
            taken = min(maximum, round(ratio * left / ratio_left))
            result.append(value - taken)
            left -= taken
            ratio_left -= ratio
        else:
            result.append(value)
    return result


def _table(table: Table, width: int) -> list[list[Segment]]:
    columns = list(zip(table.headers, *table.rows))
    if any("[" in header for header in table.headers):
        raise Declined("a header is read as markup")
    # A column is as wide as its widest line, and two cells wider (a space each side).
    # (at most the table's room: rich measures a column no wider than that)
    available = width - len(columns) - 1
    natural = [min(max(cells(line) for cell in column for line in checked(cell).split("\n")) + 2, available)
               for column in columns]
    widths = _column_widths(natural, available, [not no_wrap for no_wrap in table.no_wrap])
    if min(widths) < 3:
        raise Declined("a column with no room for a character")

    def row(texts: tuple[str, ...], header: bool, styles: tuple, colours: tuple) -> list[list[Segment]]:
        bar = "┃" if header else "│"
        drawn = []
        for text, size, right, fold, no_wrap, style, own in zip(texts, widths, table.right_aligned, table.fold,
                                                                 table.no_wrap, styles, colours):
            lines = _wrap(text, [], size - 2, "right" if right else "left", fold, no_wrap)
            drawn.append([[(" ", style), (line, _over(style, own)), (" ", style)] for line, _ in lines])
        height = max(len(lines) for lines in drawn)
        for index, lines in enumerate(drawn):  # a header's text at the bottom of its row, a cell's at the top
            blank = [[(" " * widths[index], styles[index])]] * (height - len(lines))
            drawn[index] = blank + lines if header else lines + blank
        out = []
        for cells_ in zip(*drawn):
            line: list[Segment] = [(bar, None)]
            for cell in cells_:
                line += cell + [(bar, None)]
            out.append(line)
        return out

    inner = sum(widths) + len(widths) + 1
    lines = [[(text, None)] for text, _ in _wrap(checked(table.title), [], inner, "left")]
    lines.append([("┏" + "┳".join("━" * w for w in widths) + "┓", None)])
    no_colours = (None,) * len(widths)
    lines += row(table.headers, True, ("bold",) * len(widths), no_colours)
    lines.append([("┡" + "╇".join("━" * w for w in widths) + "┩", None)])
    column_styles = tuple("dim" if dim else None for dim in table.dim)
    for texts, colours in zip(table.rows, table.row_colours):
        lines += row(texts, False, column_styles, colours)
    lines.append([("└" + "┴".join("─" * w for w in widths) + "┘", None)])
    return lines


def _panel(panel: Panel, width: int) -> list[list[Segment]]:
    border = panel.border
    if panel.title_is_markup and ("[" in panel.title or ":" in panel.title):
        raise Declined(panel.title)  # rich would read markup or an emoji code in it
    title = " " + checked(panel.title).replace("\n", " ") + " "
    if cells(title) > width - 4:
        title = crop(title, width - 4)
    top = [("╭─", border), (title, border)]
    if cells(title) < width - 4:
        top.append(("─" * (width - 4 - cells(title)), border))
    lines = [top + [("─╮", border)]]
    text, spans = _body(panel.parts)
    for line, line_spans in _wrap(text, spans, width - 4):
        filler = " " * (width - 4 - cells(line))
        lines.append([("│", border), (" ", None), *_segments(line, line_spans), (filler, None), (" ", None),
                      ("│", border)])
    lines.append([("╰" + "─" * (width - 2) + "╯", border)])
    return lines


def _body(parts: tuple[tuple, ...]) -> tuple[str, list]:
    """A panel's text and its styles' spans, from the grader's tags and the report's text."""
    texts: list[str] = []
    spans: list = []
    length = 0
    opened: tuple[str, int] | None = None
    for index, part in enumerate(parts):
        if index:
            texts.append("\n")
            length += 1
        for piece in part:
            if not isinstance(piece, Tag):
                # rich's markup escape adds a backslash to text that ends in one (shown where no tag
                # follows it), and its markup reader takes one away before a "[" that starts no tag.
                if piece.endswith("\\") or "\\[" in piece:
                    raise Declined(piece)
                texts.append(checked(piece))
                length += len(piece)
                continue
            shown = []
            for closing, style, text in _TAG.findall(piece.markup):
                if text:
                    shown.append(text)
                    texts.append(checked(text))
                    length += len(text)
                elif not closing and opened is None:
                    opened = (style, length)
                elif closing and opened is not None and opened[0] == style:
                    spans.append((opened[1], length, style))
                    opened = None
                else:
                    raise Declined(piece.markup)  # nested or unmatched: not the grader's simple tags
            if "".join(shown) != piece.plain:
                raise Declined(piece.markup)
    if opened is not None:
        raise Declined("a tag left open")
    return "".join(texts), spans
