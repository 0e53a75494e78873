"""Loader for a folder in the book's layout: every .py file and notebook in it and its subfolders.

``grade ch04/`` grades ``two_layer_net.py`` and ``train_neuralnet.py`` together, each as
Python runs it: its own module (named after the file), importing its siblings
(``from two_layer_net import TwoLayerNet``) and the student's own ``common/`` beside them
or in the folder above, with or without ``__init__.py``. A notebook in the folder is its
own namespace too. A subfolder's files are modules as well (``train_algorithm/two_layer_net.py`` is
``train_algorithm.two_layer_net``, with or without ``__init__.py``), named by their path in the
report; ``common/`` and ``dataset/`` hold helpers, which run when imported. One unreadable file
costs only itself; a file that does not parse is still handed on, so that the report can say
where it breaks.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..hookspecs import hookimpl
from ..i18n import _
from .base import SKIP_DIRS, CodeCell, Submission, SubmissionError, read_text, sibling_files
from .notebook import read_notebook_cells


class FolderLoader:
    name = "folder"

    def accepts(self, path: Path) -> bool:
        return path.is_dir()

    def load(self, path: Path) -> Submission:
        sources = _code_files(path)
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
            rel = source_path.relative_to(path).as_posix()
            try:
                if source_path.suffix.lower() == ".ipynb":
                    found, notes = read_notebook_cells(source_path, rel, prefix=f"{rel}: ")
                    cells.extend(replace(c, module=f"__dlfs_submission__/{rel}") for c in found)
                    skipped.extend(notes)
                else:
                    cells.append(self._python_cell(source_path, rel, number))
            except SubmissionError as exc:
                skipped.append((rel, _("not graded: {reason}").format(reason=exc)))
        if not cells:
            reasons = "; ".join(why for _place, why in skipped)
            raise SubmissionError(_("{path}: nothing in it can be graded ({reasons})").format(
                path=path, reasons=reasons))
        return Submission(path, tuple(cells), sibling_files(path, depth=MAX_DEPTH), tuple(skipped))

    def _python_cell(self, path: Path, rel: str, number: int) -> CodeCell:
        """A file of the folder as its own module: ``two_layer_net`` at the top, a subfolder's file
        as ``train_algorithm.two_layer_net`` (importable by that name when every part is a name)."""
        source = read_text(path)
        parts = rel[:-len(path.suffix)].split("/")
        if len(parts) > 1 and parts[-1] == "__init__":
            parts = parts[:-1]  # a subfolder's __init__.py is that package
        module = ".".join(parts)
        return CodeCell(f"file{number}", source, rel, module=module, importable=all(p.isidentifier() for p in parts))


@hookimpl
def grader_loaders() -> list:
    return [FolderLoader()]


# How deep a folder's subfolders are read for code (04_learning/02_loss/cee.py is two deep), and
# how many files at most: a chapter's work is a few dozen files.
MAX_DEPTH = 4
MAX_CODE_FILES = 200
# Subfolders that hold helpers, not exercises: their modules run when the student's code imports
# them (and are graded as the student's then); a virtual environment or a cache holds no work.
HELPER_FOLDERS = frozenset({"common", "dataset"})


def _code_files(path: Path) -> list[Path]:
    """The .py files and notebooks of ``path`` and its subfolders (MAX_DEPTH deep), the folder's own
    first, then each subfolder's in name order; helper folders, hidden ones and environments left out."""
    found: list[Path] = []
    level = [path]
    for depth in range(MAX_DEPTH + 1):
        next_level: list[Path] = []
        for folder in level:
            try:
                entries = sorted(folder.iterdir())
            except OSError:
                continue
            for entry in entries:
                if entry.name.startswith(".") or entry.is_symlink():
                    continue
                if entry.is_file() and entry.suffix.lower() in (".py", ".ipynb"):
                    found.append(entry)
                elif entry.is_dir() and depth < MAX_DEPTH and entry.name not in SKIP_DIRS \
                        and entry.name not in HELPER_FOLDERS and not entry.name.startswith("__") \
                        and not (entry / "pyvenv.cfg").exists():
                    next_level.append(entry)
        level = next_level
    return found[:MAX_CODE_FILES]


def _folders_with_code(path: Path) -> list[Path]:
    """The folders right inside ``path`` that hold Python files or notebooks, chapter folders first
    (``ch04`` before the book's ``common``, which holds helpers, not exercises)."""
    try:
        found = [p for p in sorted(path.iterdir()) if p.is_dir() and not p.name.startswith((".", "__"))
                 and any(f.is_file() and f.suffix.lower() in (".py", ".ipynb") for f in p.iterdir())]
    except OSError:
        return []
    return sorted(found, key=lambda p: (p.name in ("common", "dataset"), p.name))
