"""How much of a terminal a piece of text takes, and where rich breaks it into lines.

The rules of rich 13-15 for the characters terminal_draw.py draws, written for this project:
a character is one cell wide or two; a line breaks before a word (with the spaces after it)
that does not fit; a word longer than a line is cut into pieces; a wide character cut in two
by a crop becomes a space. tests/test_terminal_draw.py holds them to rich's own output.
"""
from __future__ import annotations

import re

# The characters drawn: one cell wide (_NARROW) or two (_WIDE), the same in every Unicode version
# rich knows (4.1 to 17; the test checks every one), no control, combining or zero-width
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


class Declined(Exception):
    """Text or a layout that is not drawn here exactly as rich would draw it."""


def checked(text: str) -> str:
    """``text``, if every character in it is one drawn here."""
    if _DRAWN.fullmatch(text) is None:
        raise Declined(text)
    return text


def cells(text: str) -> int:
    """Terminal cells of drawn text."""
    if text.isascii():
        return len(text)
    return len(text) + len(_WIDE_CHARACTER.findall(text))


def crop(text: str, width: int) -> str:
    """The first ``width`` cells of ``text``; a wide character cut in two becomes a space."""
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


def breaks(line: str, width: int, fold: bool = True) -> list[int]:
    """Where one line of text ``width`` cells wide breaks: a word (with the spaces after it) goes to
    the next line when it does not fit; a word longer than a line is cut into pieces (``fold``) or
    left whole, to be cut short with "…"."""
    found: list[int] = []
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
                    found.append(start)
                start += len(piece)
            if start:
                found.append(start)
            used = cells(pieces[-1])
        elif used and start:
            found.append(start)
            used = cells(word)
    return found


def trailing_spaces(text: str) -> int:
    found = _TRAILING_SPACE.search(text)
    return len(found.group()) if found else 0
