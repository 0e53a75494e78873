"""Loader for a single .py file: the whole file is one cell."""
from __future__ import annotations

import ast
from pathlib import Path

from ..hookspecs import hookimpl
from ..i18n import _
from .base import CodeCell, Submission, SubmissionError, read_text, sibling_files


class PythonFileLoader:
    name = "python-file"

    def accepts(self, path: Path) -> bool:
        return path.suffix.lower() == ".py"

    def load(self, path: Path) -> Submission:
        source = read_text(path)
        try:
            tree = ast.parse(source, filename=path.name)
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
