"""Text that came from a submission, made safe for every report format (DESIGN.md principle 4).

A student's exception message, printed output or returned string may hold terminal
escape sequences (``\\x1b[31m``), characters XML forbids (NUL, ``\\x0b``), lone
surrogates that cannot be written as UTF-8, or bidirectional overrides that make
source code read differently from what it is. None of them may reach a report raw:
:func:`visible` turns each into a printable escape (``\\x1b``, ``\\u202e``) that the
reader sees as text. Markup (HTML, Markdown, rich) is escaped by each renderer on top.
"""
from __future__ import annotations

import dataclasses
import re
from typing import TypeVar

# C0 controls except tab and newline, DEL, C1 controls, bidirectional marks, embeddings,
# overrides and isolates, the line and paragraph separators (a terminal may break a line there),
# surrogates, and the two non-characters XML forbids.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                     "\ud800-\udfff\ufffe\uffff]")
# In JSON text the same characters are written as \\uXXXX escapes (json.dumps leaves C1,
# bidi and surrogates raw with ensure_ascii=False; they are only ever inside strings there).
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
# Characters with a meaning in Markdown or HTML: written as numeric character references,
# which every Markdown flavour shows literally and never reads as syntax.
# An underscore inside a word (``double_it``) never starts emphasis, so it stays readable.
_MARKDOWN_SPECIAL = re.compile(r"[\\`*\[\]|<>&~$#]|(?<![^\W_])_|_(?![^\W_])")

T = TypeVar("T")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every unsafe character shown as an escape; tabs and line breaks are kept."""
    return _UNSAFE.sub(_escape, text.replace("\r\n", "\n"))


def one_line(text: str) -> str:
    """:func:`visible`, with runs of whitespace (line breaks too) folded into one space."""
    return " ".join(visible(text).split())


def json_safe(text: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``) with no raw control character left.

    The data is unchanged: ``json.loads`` gives back exactly what was dumped.
    """
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# What GitHub's Markdown (and most others) turns into a link with no markup at all: a scheme
# followed by "//" (https://, ftp://, javascript://), "www." and an e-mail address. A zero-width
# space (written as a reference) after the ":" of a scheme, the "www" and the "@" breaks each
# pattern; the reader sees the same text, never a live link a student's exception message made.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=\bwww)(?=\.)|(?<=@)(?=[^\W_])", re.IGNORECASE)


def markdown(text: str) -> str:
    """One line of Markdown that shows ``text`` literally, wherever it stands (table cell, list, HTML
    block), with no autolink (``https://...``, ``www....``, an e-mail address) left in it."""
    escaped = _MARKDOWN_SPECIAL.sub(lambda m: f"&#{ord(m.group())};", one_line(text))
    return _AUTOLINK.sub("&#8203;", escaped)


def html_text(text: str) -> str:
    """``text`` as HTML character data (for the few places that build HTML outside the template)."""
    # html.escape's replacements, written out: the html package loads its 2,231 named entities on
    # import (1.5 ms of every `grade`, which needs this module and never an entity).
    return visible(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        '"', "&quot;").replace("'", "&#x27;")


def displayable(value: T) -> T:
    """A copy of a report (or any part of it) with :func:`visible` applied to every string in it.

    Works on the frozen dataclasses of :mod:`grader.report` and on the JSON-ready values
    they hold (expected and actual values), so a field added later is covered too.
    """
    if isinstance(value, str):
        return visible(value)  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: displayable(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple):
        return tuple(displayable(v) for v in value)  # type: ignore[return-value]
    if isinstance(value, list):
        return [displayable(v) for v in value]  # type: ignore[return-value]
    if isinstance(value, dict):
        return {displayable(k): displayable(v) for k, v in value.items()}  # type: ignore[return-value]
    return value
