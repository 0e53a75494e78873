"""Loader for a folder in the book's layout: every .py file and notebook directly in it.

``grade ch04/`` grades ``two_layer_net.py`` and ``train_neuralnet.py`` together, each as
Python runs it: its own module (named after the file), importing its siblings
(``from two_layer_net import TwoLayerNet``) and the student's own ``common/`` beside them
or in the folder above, with or without ``__init__.py``. A notebook in the folder is its
own namespace too. One unreadable file costs only itself; a file that does not parse is
still handed on, so that the report can say where it breaks.
"""
from __future__ import annotations

from dataclasses import replace
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
            inner = _folders_with_code(path)
            if inner:  # the book's layout handed in from one level up: ch04/ beside common/
                import shlex
                raise SubmissionError(_("{path} holds no Python files (.py) or notebooks (.ipynb) to grade, but "
                                        "{folder} does: try `grade {command}`").format(
                    path=path, folder=inner[0], command=shlex.quote(str(inner[0]))))
            raise SubmissionError(_("{path} holds no Python files (.py) or notebooks (.ipynb) to grade").format(
                path=path))
        cells: list[CodeCell] = []
        skipped: list[tuple[str, str]] = []
        for number, source_path in enumerate(sources):
            try:
                if source_path.suffix.lower() == ".ipynb":
                    found, notes = read_notebook_cells(source_path, source_path.name, prefix=f"{source_path.name}: ")
                    cells.extend(replace(c, module=f"__dlfs_submission__/{source_path.name}") for c in found)
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
        source = read_text(path)
        return CodeCell(f"file{number}", source, path.name, module=path.stem, importable=path.stem.isidentifier())


@hookimpl
def grader_loaders() -> list:
    return [FolderLoader()]


def _folders_with_code(path: Path) -> list[Path]:
    """The folders right inside ``path`` that hold Python files or notebooks, chapter folders first
    (``ch04`` before the book's ``common``, which holds helpers, not exercises)."""
    try:
        found = [p for p in sorted(path.iterdir()) if p.is_dir() and not p.name.startswith((".", "__"))
                 and any(f.is_file() and f.suffix.lower() in (".py", ".ipynb") for f in p.iterdir())]
    except OSError:
        return []
    return sorted(found, key=lambda p: (p.name in ("common", "dataset"), p.name))
