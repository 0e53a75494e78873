"""Loader for a folder in the book's layout: every .py file and notebook directly in it.

``grade ch04/`` grades ``two_layer_net.py`` and ``train_neuralnet.py`` together; their
``from common.functions import *`` finds the book's ``common/`` beside them or in the
folder above (both are on the worker's path), and ``from two_layer_net import
TwoLayerNet`` finds the student's own module. One unreadable file costs only itself.
"""
from __future__ import annotations

import ast
from pathlib import Path

from ..hookspecs import hookimpl
from ..i18n import _
from .base import CodeCell, Submission, SubmissionError, read_text, sibling_files
from .notebook import read_notebook_cells


class FolderLoader:
    name = "folder"

    def accepts(self, path: Path) -> bool:
        return path.is_dir()

    def load(self, path: Path) -> Submission:
        sources = sorted(p for p in path.iterdir()
                         if p.is_file() and p.suffix.lower() in (".py", ".ipynb") and not p.name.startswith("."))
        if not sources:
            raise SubmissionError(_("{path} holds no Python files (.py) or notebooks (.ipynb) to grade").format(
                path=path))
        cells: list[CodeCell] = []
        skipped: list[tuple[str, str]] = []
        for number, source_path in enumerate(sources):
            try:
                if source_path.suffix.lower() == ".ipynb":
                    found, notes = read_notebook_cells(source_path, source_path.name, prefix=f"{source_path.name}: ")
                    cells.extend(found)
                    skipped.extend(notes)
                else:
                    cells.append(self._python_cell(source_path, number))
            except SubmissionError as exc:
                skipped.append((source_path.name, _("not graded: {reason}").format(reason=exc)))
        if not cells:
            reasons = "; ".join(why for _place, why in skipped)
            raise SubmissionError(_("{path}: nothing in it can be graded ({reasons})").format(
                path=path, reasons=reasons))
        return Submission(path, tuple(cells), sibling_files(path), tuple(skipped))

    def _python_cell(self, path: Path, number: int) -> CodeCell:
        from .python_file import read_source  # PEP 263 coding lines, as for a single file
        source = read_source(path)
        try:
            ast.parse(source)
        except SyntaxError as exc:
            raise SubmissionError(_("syntax error at line {line}: {reason}").format(
                line=exc.lineno, reason=exc.msg)) from None
        return CodeCell(f"file{number}", source, path.name)


@hookimpl
def grader_loaders() -> list:
    return [FolderLoader()]
