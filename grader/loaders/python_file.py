"""Loader for a single .py file: the whole file is one cell."""
from __future__ import annotations

import ast
from pathlib import Path

from ..hookspecs import hookimpl
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
            line = (exc.text or "").rstrip("\n")
            where = f"line {exc.lineno}" + (f": {line.strip()}" if line.strip() else "")
            raise SubmissionError(f"{path.name}: syntax error at {where}\n  {exc.msg}. "
                                  "Fix it (run `python " + path.name + "` to see it) and grade again.") from None
        except ValueError as exc:  # e.g. source with null bytes that slipped through
            raise SubmissionError(f"{path.name}: cannot be parsed as Python ({exc})") from None
        if not tree.body:
            raise SubmissionError(f"{path.name} is empty: there is no code to grade")
        return Submission(path, (CodeCell("0", source, ""),), sibling_files(path.parent))


@hookimpl
def grader_loaders() -> list:
    return [PythonFileLoader()]
