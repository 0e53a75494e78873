"""The language a student writes in, from the script of their own comments and markdown.

Hangul means Korean; kana means Japanese (Japanese text mixes kana with kanji); Han characters
without kana (or with only a stray few) mean Chinese; anything else gets English. Only what the student wrote for a
reader counts (comments, markdown cells), not strings or the book's code they copied.
"""
from __future__ import annotations

import io
import json
import tokenize
from pathlib import Path

MAX_BYTES = 1 << 20  # of each file read for its language
MIN_CHARACTERS = 2  # one stray character (a copied symbol) does not decide a language
KANA_SHARE = 0.1


def script_counts(text: str) -> tuple[int, int, int]:
    """(Hangul, kana, Han) characters in ``text``."""
    hangul = kana = han = 0
    for char in text:
        code = ord(char)
        if 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
            hangul += 1
        elif 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9F:
            kana += 1
        elif 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
            han += 1
    return hangul, kana, han


def language_of(text: str) -> str:
    hangul, kana, han = script_counts(text)
    if hangul >= MIN_CHARACTERS and hangul >= kana:
        return "ko"
    # Japanese prose is a tenth or more kana; a Chinese student's few stray kana (を, に) are not.
    if kana >= MIN_CHARACTERS and kana >= KANA_SHARE * (kana + han):
        return "ja"
    if han >= MIN_CHARACTERS:
        return "zh"
    return "en"


def detect(files: tuple[Path, ...] | list[Path]) -> str:
    """The language of a student's .py files and notebooks (their comments and markdown)."""
    return language_of("\n".join(prose(path) for path in files))


def prose(path: Path) -> str:
    """What the student wrote for a reader in one file: comments, and markdown cells of a notebook."""
    text = _decode(path)
    if text is None:
        return ""
    if path.suffix.lower() != ".ipynb":
        return comments(text)
    try:
        notebook = json.loads(text)
    except ValueError:
        return ""
    parts = []
    for cell in notebook.get("cells", []) if isinstance(notebook, dict) else []:
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        parts.append(source if cell.get("cell_type") == "markdown" else comments(source))
    return "\n".join(parts)


def comments(source: str) -> str:
    try:
        return "\n".join(token.string for token in tokenize.generate_tokens(io.StringIO(source).readline)
                         if token.type == tokenize.COMMENT)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        # A file that does not tokenize (a syntax error, IPython magics) still has '#' comments.
        return "\n".join(line.split("#", 1)[1] for line in source.splitlines() if "#" in line)


def _decode(path: Path) -> str | None:
    try:
        with open(path, "rb") as source:  # a file's first megabyte says its language as well as all of it
            data = source.read(MAX_BYTES)
    except OSError:
        return None
    if len(data) == MAX_BYTES:  # a character cut in two at the end must not make the whole text undecodable
        data = data[:data.rfind(b"\n") + 1] or data
    for encoding in ("utf-8-sig", "cp949", "shift_jis", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def handed_in_code(paths: list[Path], limit: int = 50, visits: int = 2000) -> list[Path]:
    """The .py files and notebooks among ``paths`` and in their folders (before anything is staged),
    looking at no more than ``visits`` entries: a folder of a million others is no reason to wait."""
    from .tree import FILE, TreeTooLarge, walk

    found: list[Path] = []
    for path in paths:
        try:
            for node in walk(path, max_entries=visits):
                if node.kind == FILE and node.path.suffix.lower() in (".py", ".ipynb"):
                    found.append(node.path)
                    if len(found) >= limit:
                        return found
        except (TreeTooLarge, OSError):
            continue
    return found
