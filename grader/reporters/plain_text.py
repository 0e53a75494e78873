"""The terminal report as plain text (no colour) without rich: the same characters, 25 ms sooner.

rich costs a `grade` about 15 ms to import and 8 ms for a first render, 15% of grading a short
notebook (issue 13). Without colour (a pipe, a file, a CI log) the report is a fixed layout of a
table, lines and panels, and rich's rules for it are few: word wrapping, a column as wide as its
widest cell, a cell's width in terminal cells. This module applies them to the layouts it can
prove it draws exactly as rich does, and declines (returns None) every other one, which rich
then draws: a table too wide for the terminal (rich shrinks columns), a tab, a character
outside the ranges below (rich's width tables vary with the Unicode version; these do not),
report text with a backslash at its end or before a "[" (rich's markup changes those), a very
narrow terminal.
tests/test_plain_text.py holds it to rich's own output on every fixture and on generated reports.
"""
from __future__ import annotations

import re

from .terminal_layout import Layout, Line, Panel, Table, Tag

# The characters drawn here: one cell wide (_NARROW) or two (_WIDE), the same in every Unicode
# version rich knows (4.1 to 17; the test checks every one), no control, combining or zero-width
# character, and no white space but the space and the line break. Korean, Japanese and Chinese
# text, Latin, Greek and Cyrillic, punctuation, arrows, maths and the report's marks are in.
_NARROW = (
    r"\u0020-\u007e\u00a1-\u00ac\u00ae-\u024f\u0370-\u0377\u037a-\u037f\u0384-\u038a\u038c"
    r"\u038e-\u03a1\u03a3-\u0482\u048a-\u04ff\u2010-\u2027\u2030-\u205e\u2070-\u2071\u2074-\u208e"
    r"\u2090-\u209c\u20a0-\u20c0\u2100-\u218b\u2190-\u2319\u231c-\u2328\u232b-\u23e8\u23ed-\u23ef"
    r"\u23f1-\u23f2\u23f4-\u2426\u2440-\u244a\u2460-\u25fc\u25ff-\u2613\u2616-\u262f\u2638-\u2647"
    r"\u2654-\u267e\u2680-\u2689\u2690-\u2692\u2694-\u26a0\u26a2-\u26a9\u26ac-\u26bc\u26bf-\u26c3"
    r"\u26c6-\u26cd\u26cf-\u26d3\u26d5-\u26e9\u26eb-\u26f1\u26f4\u26f6-\u26f9\u26fb-\u26fc"
    r"\u26fe-\u2704\u2706-\u2709\u270c-\u2727\u2729-\u274b\u274d\u274f-\u2752\u2756\u2758-\u2794"
    r"\u2798-\u27af\u27b1-\u27be\u27c0-\u2b1a\u2b1d-\u2b4f\u2b51-\u2b54\u2b56-\u2b73\u2b76-\u2b95"
    r"\u2b97-\u2bff\u303f\u3248-\u324f\uff61-\uff9f\uffa1-\uffbe\uffc2-\uffc7\uffca-\uffcf"
    r"\uffd2-\uffd7\uffda-\uffdc\uffe8-\uffee"
)
_WIDE = (
    r"\u2329-\u232a\u2e80-\u2e99\u2e9b-\u2ef3\u2f00-\u2fd5\u2ff0-\u2ffb\u3001-\u3029\u3030-\u303e"
    r"\u3041-\u3096\u309b-\u30ff\u3105-\u312c\u3131-\u3163\u3165-\u318e\u3190-\u31b7\u31c0-\u31cf"
    r"\u31f0-\u321e\u3220-\u3243\u3250-\u32fe\u3300-\u4db5\u4e00-\u9fbb\uac00-\ud7a3\uf900-\ufa2d"
    r"\ufa30-\ufa6a\ufa70-\ufad9\ufe30-\ufe4f\uff01-\uff60\uffe0-\uffe6"
)
_DRAWN = re.compile(f"[\n{_NARROW}{_WIDE}]*")
_WIDE_CHARACTER = re.compile(f"[{_WIDE}]")
_WORD = re.compile(r"\s*\S+\s*")
_TRAILING_SPACE = re.compile(r"\s+$")
MIN_WIDTH = 40


class Declined(Exception):
    """The layout holds something this module does not draw as rich would."""


def plain_text(shown: Layout, width: int) -> str | None:
    """The report drawn ``width`` cells wide, exactly as rich draws it without colour; None when
    this module cannot promise that (rich draws it then)."""
    if width < MIN_WIDTH:
        return None
    try:
        lines: list[str] = []
        for item in shown.items:
            if isinstance(item, Table):
                lines += _table(item, width)
            elif isinstance(item, Line):
                lines += _wrap(_checked(item.text), width)
            else:
                lines += _panel(item, width)
    except Declined:
        return None
    return "".join(line + "\n" for line in lines)


def _checked(text: str) -> str:
    if _DRAWN.fullmatch(text) is None:
        raise Declined(text)
    return text


def cells(text: str) -> int:
    """Terminal cells of drawn text."""
    if text.isascii():
        return len(text)
    return len(text) + len(_WIDE_CHARACTER.findall(text))


def _crop(text: str, width: int) -> str:
    """The first ``width`` cells of ``text``; a wide character cut in two becomes a space (rich's rule)."""
    if text.isascii():
        return text[:width]
    used = 0
    for index, character in enumerate(text):
        size = 2 if _WIDE_CHARACTER.match(character) else 1
        if used + size > width:
            return text[:index] + " " * (width - used)
        used += size
    return text


def _chop(word: str, width: int) -> list[str]:
    """A word too long for a line, cut into lines of at most ``width`` cells."""
    if word.isascii():
        return [word[i:i + width] for i in range(0, len(word), width)]
    chunks, used, begin = [], 0, 0
    for index, character in enumerate(word):
        size = 2 if _WIDE_CHARACTER.match(character) else 1
        if used + size > width:
            chunks.append(word[begin:index])
            begin, used = index, 0
        used += size
    if used:
        chunks.append(word[begin:])
    return chunks


def _breaks(line: str, width: int, fold: bool = True) -> list[int]:
    """Where rich breaks one line of text ``width`` cells wide: a word (with the spaces after it) goes
    to the next line when it does not fit; a word longer than a line is cut into pieces (``fold``)
    or left whole, to be cut short with "…"."""
    breaks: list[int] = []
    used = 0
    for match in _WORD.finditer(line):
        start, word = match.start(), match.group()
        needed = cells(word.rstrip())
        if width - used >= needed:
            used += cells(word)
        elif needed > width:
            pieces = _chop(word, width) if fold else [word]
            for piece in pieces[:-1]:
                if start:
                    breaks.append(start)
                start += len(piece)
            if start:
                breaks.append(start)
            used = cells(pieces[-1])
        elif used and start:
            breaks.append(start)
            used = cells(word)
    return breaks


def _truncate(text: str, width: int, fold: bool, pad: bool = False) -> str:
    size = cells(text)
    if size > width:
        text = _crop(text, width) if fold else _crop(text, width - 1) + "…"
    if pad and size < width:
        text += " " * (width - size)
    return text


def _wrap(text: str, width: int, justify: str = "default", fold: bool = True) -> list[str]:
    """``text`` wrapped to ``width`` cells, each line as rich justifies it: "default" (as it is),
    "left" (filled with spaces to the width) or "right"."""
    out = []
    for line in text.split("\n"):
        offsets = [0, *_breaks(line, width, fold), len(line)]
        for begin, end in zip(offsets, offsets[1:]):
            piece = line[begin:end]
            if len(piece) > width:  # trailing spaces past the width go (counted in characters, as rich does)
                spaces = _TRAILING_SPACE.search(piece)
                if spaces:
                    piece = piece[:len(piece) - min(len(spaces.group()), len(piece) - width)]
            if justify == "left":
                piece = _truncate(piece, width, fold, pad=True)
            elif justify == "right":
                piece = _truncate(piece.rstrip(), width, fold)
                piece = " " * (width - cells(piece)) + piece
            out.append(_truncate(piece, width, fold))
    return out


def _fill(line: str, width: int) -> str:
    return line + " " * (width - cells(line))


def _column_widths(natural: list[int], available: int) -> list[int]:
    """rich's widths for columns that do not fit side by side: the widest narrowed to the next widest,
    in turn, until they fit; failing that, all of them narrowed alike."""
    widths = list(natural)
    excess = sum(widths) - available
    while excess > 0:
        widest = max(widths)
        difference = widest - max((w for w in widths if w != widest), default=0)
        if not difference:
            break
        widths = _reduce(excess, [int(w == widest) for w in widths], [min(excess, difference)] * len(widths), widths)
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


def _table(table: Table, width: int) -> list[str]:
    columns = list(zip(table.headers, *table.rows))
    for cell in table.headers:
        if "[" in cell:
            raise Declined(cell)  # a header is read as markup
    # A column is as wide as its widest line, and two cells wider (a space each side).
    natural = [max(cells(line) for cell in column for line in _checked(cell).split("\n")) + 2 for column in columns]
    widths = _column_widths(natural, width - len(columns) - 1)
    if min(widths) < 3:
        raise Declined("table")  # a column with no room for a character
    inner = sum(widths) + len(widths) + 1

    def row(cells_: tuple[str, ...], bar: str, header: bool) -> list[str]:
        drawn = [[" " + line + " " for line in _wrap(cell, size - 2, "right" if right else "left", fold)]
                 for cell, size, right, fold in zip(cells_, widths, table.right_aligned, table.fold)]
        height = max(len(lines) for lines in drawn)
        for index, lines in enumerate(drawn):  # a header's text at the bottom of its row, a cell's at the top
            blank = [" " * widths[index]] * (height - len(lines))
            drawn[index] = blank + lines if header else lines + blank
        return [bar + bar.join(line) + bar for line in zip(*drawn)]

    lines = _wrap(_checked(table.title), inner, "left")
    lines.append("┏" + "┳".join("━" * w for w in widths) + "┓")
    lines += row(table.headers, "┃", True)
    lines.append("┡" + "╇".join("━" * w for w in widths) + "┩")
    for cells_ in table.rows:
        lines += row(cells_, "│", False)
    lines.append("└" + "┴".join("─" * w for w in widths) + "┘")
    return lines


def _panel(panel: Panel, width: int) -> list[str]:
    if panel.title_is_markup and ("[" in panel.title or ":" in panel.title):
        raise Declined(panel.title)  # rich would read markup or an emoji code in it
    title = " " + _checked(panel.title).replace("\n", " ") + " "
    if cells(title) > width - 4:
        title = _crop(title, width - 4)
    lines = ["╭─" + title + "─" * (width - 4 - cells(title)) + "─╮"]
    body = "\n".join("".join(_piece(p) for p in part) for part in panel.parts)
    lines += ["│ " + _fill(line, width - 4) + " │" for line in _wrap(body, width - 4)]
    lines.append("╰" + "─" * (width - 2) + "╯")
    return lines


def _piece(piece: "Tag | str") -> str:
    if isinstance(piece, Tag):
        return piece.plain
    # rich's markup escape adds a backslash to text that ends in one (shown where no tag follows it),
    # and its markup reader takes one away before a "[" that starts no tag.
    if piece.endswith("\\") or "\\[" in piece:
        raise Declined(piece)
    return _checked(piece)
