"""Loader for a single .py file: the whole file is one cell, decoded as Python decodes it."""
from __future__ import annotations

import io
import tokenize
from pathlib import Path

from ..hookspecs import hookimpl
from ..i18n import _
from ..submission.toplevel import parsed
from .base import CodeCell, Submission, SubmissionError, read_text, sibling_files


def read_source(path: Path) -> str:
    """A .py file's text in the encoding Python itself would use (PEP 263).

    A UTF-8 BOM, or a coding line in the first two lines (``# -*- coding: cp949 -*-``, common
    in Korean and Japanese material), names the encoding; without one it is UTF-8.
    """
    if not path.is_file():
        return read_text(path)  # its messages for a missing or unreadable path
    try:
        data = path.read_bytes()
    except OSError:
        return read_text(path)
    if b"\x00" in data:
        return read_text(path)  # "a binary file, not Python source"
    try:
        encoding, _lines = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # an unknown encoding, or a BOM that contradicts the coding line
        if "invalid or missing encoding declaration" in str(exc):
            return read_text(path)  # no coding line and not UTF-8: "not UTF-8 text (byte N)"
        raise SubmissionError(_("{path}: {reason}; fix the coding line (e.g. # -*- coding: utf-8 -*-) or remove "
                                "it").format(path=path, reason=exc.msg if hasattr(exc, "msg") else exc)) from None
    if encoding in ("utf-8", "utf-8-sig"):
        return read_text(path)  # UTF-8, with its own message when the bytes are not
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SubmissionError(_("{path}: its coding line says {encoding}, but byte {position} is not {encoding}; "
                                "save the file in that encoding or fix the coding line").format(
            path=path, encoding=encoding, position=exc.start)) from None


class PythonFileLoader:
    name = "python-file"

    def accepts(self, path: Path) -> bool:
        return path.suffix.lower() == ".py"

    def load(self, path: Path) -> Submission:
        source = read_source(path)
        try:
            tree = parsed(source)  # shared with the plan (grader/submission/toplevel.py): parsed once
        except SyntaxError as exc:
            code = (exc.text or "").strip()
            message = _("{name}: syntax error at line {line}: {code}\n  {reason}. Fix it (run `python {name}` to "
                        "see it) and grade again.") if code else _("{name}: syntax error at line {line}\n  {reason}. "
                                                                    "Fix it (run `python {name}` to see it) and grade "
                                                                    "again.")
            raise SubmissionError(message.format(name=path.name, line=exc.lineno, code=code, reason=exc.msg)) from None
        except ValueError as exc:  # e.g. source with null bytes that slipped through
            raise SubmissionError(_("{name}: cannot be parsed as Python ({reason})").format(
                name=path.name, reason=exc)) from None
        if not tree.body:
            raise SubmissionError(_("{name} is empty: there is no code to grade").format(name=path.name))
        return Submission(path, (CodeCell("0", source, ""),), sibling_files(path.parent))


@hookimpl
def grader_loaders() -> list:
    return [PythonFileLoader()]
