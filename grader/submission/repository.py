"""The student's repository as they ran it: its root, and the part of it their code reaches.

Learners keep chapter 4 inside a repository of their own and import from around it: a copied
``common/`` one or two levels up, ``sys.path.append(os.pardir)`` then ``from chapter3.functions
import softmax``, ``sys.path.append('../chapter3')``, a copy of the book kept inside the repository.
The worker gets a private copy of exactly that part, at the same relative places, so that the
student's imports and path edits work in the sandbox as they did on their laptop.

The root is the nearest folder holding ``.git`` (at most MAX_LEVELS_UP above the submission's
folder), else the highest folder the student's own path edits reach (at most MAX_EDIT_LEVELS
above: an edit to ``/etc`` or a classmate's folder reaches nothing), and never less than the
folder above the submission (the book's layout: ``ch04/`` beside ``common/``). It never goes
above ``ceiling`` (a class run stages each student in a folder of their own: a classmate is
never reachable), and nothing under a protected folder (an exercise's spec or answer key) is
ever staged. Only files the code imports are staged, within MAX_FILES and MAX_BYTES,
besides what was always copied (the submission's folder and the book's helper folders beside
it). An import that only a folder outside the root could answer, or one past the limits, is
recorded as unreachable, so that the report can say so instead of blaming the student.
"""
from __future__ import annotations

import ast
import os
import sys
from pathlib import Path
from typing import NamedTuple

from ..loaders.base import MAX_FILE_BYTES, MAX_TOTAL_BYTES, Submission, decode_source, sibling_files
from .path_edits import path_edits
from .toplevel import parsed

MAX_LEVELS_UP = 6  # how far above the submission's folder a repository's .git may be
MAX_EDIT_LEVELS = 2  # how far above it path edits may move the root (repo/ch04/02_loss -> repo)
MAX_FILES = 2_000  # files staged for one submission, its own folder's included
MAX_BYTES = MAX_TOTAL_BYTES
MAX_PACKAGE_DEPTH = 8  # ``a.b.c...``: deeper dotted imports are not followed
BOOK_FOLDERS = ("common", "dataset")  # staged from beside the submission and the folder above it


class Unreachable(NamedTuple):
    """An import of the student's that only a file the grader may not stage could answer."""

    module: str  # as written: "chapter3.functions"
    looked_for: str  # the file, relative to the submission's folder: "../../chapter3/functions.py"
    why: str  # "outside" (the repository root, or the class's folder of this student) or "limits"


class Staging(NamedTuple):
    """What the worker's private copy holds: root-relative posix paths and their bytes."""

    root: Path
    home: str  # the submission's folder, relative to root ("" when it is the root)
    files: dict[str, bytes]
    unreachable: tuple[Unreachable, ...] = ()
    found_by: str = "parent"  # "git", "path-edits" or "parent"

    def relative(self, path: Path) -> str | None:
        """``path`` as a key of :attr:`files`, or None when it is outside the root."""
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except (ValueError, OSError):
            return None


def find_root(folder: Path, edits: list[str], ceiling: Path | None = None) -> tuple[Path, str]:
    """The repository root for a submission in ``folder`` whose path edits name ``edits``."""
    folder = folder.resolve()
    lowest = _bounded(folder.parent, folder, ceiling)
    for level, candidate in enumerate([folder, *folder.parents]):
        if level > MAX_LEVELS_UP or not _allowed(candidate, ceiling):
            break
        if (candidate / ".git").exists():
            return (candidate if _is_within(lowest, candidate) else lowest), "git"
    root, found_by = lowest, "parent"
    for edit in edits:
        target = _bounded(Path(edit), folder, ceiling)
        common = Path(os.path.commonpath([str(root), str(target)]))
        if common != root and _levels_above(folder, common) <= MAX_EDIT_LEVELS and _allowed(common, ceiling):
            root, found_by = common, "path-edits"
    return root, found_by


def _allowed(path: Path, ceiling: Path | None) -> bool:
    return ceiling is None or _is_within(path, ceiling.resolve())


def _bounded(path: Path, folder: Path, ceiling: Path | None) -> Path:
    return path if _allowed(path, ceiling) else folder


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _levels_above(folder: Path, ancestor: Path) -> int:
    return len(folder.parts) - len(ancestor.parts)


def stage(submission: Submission, ceiling: Path | None = None, protect: tuple[str, ...] = ()) -> Staging:
    """The part of the student's repository the worker needs, as :class:`Staging`.

    ``protect``: folders never staged (the exercises' specs and answer keys)."""
    folder = submission.folder.resolve()
    sources = list(_submission_sources(submission, folder))
    edits = []
    for tree, file, text in sources:
        if _may_edit_paths(text):
            edits += [e.folder for e in path_edits(tree, file, str(folder))]
    root, found_by = find_root(folder, edits, ceiling)
    home = folder.relative_to(root).as_posix() if folder != root else ""
    stager = _Stager(root, folder, home, ceiling, tuple(Path(p).resolve() for p in protect))
    for name, data in submission.files.items():
        stager.add_bytes(f"{home}/{name}" if home else name, data)
    for base in (folder, folder.parent):
        for book in BOOK_FOLDERS:
            if (base / book).is_dir() and not (base / book).is_symlink() and _is_within(base, root):
                for name, data in sibling_files(base / book).items():
                    stager.add_bytes(stager.key(base / book / name), data)
    # sys.path as the student's code makes it: the script's (or notebook's) folder, each file's own
    # folder (a folder's files each ran as a script), then the path edits.
    stager.search = [folder] + [Path(file).parent for _tree, file, _text in sources if file] + [Path(e) for e in edits]
    stager.search = list(dict.fromkeys(stager.search))
    for tree, file, text in sources:
        if "import" in text:
            stager.follow(tree, Path(file) if file else None)
    stager.drain()
    return Staging(root, home, stager.files, tuple(stager.unreachable.values()), found_by)


def _may_edit_paths(text: str) -> bool:
    """A cheap look before the syntax is read: most cells edit no path."""
    return "sys.path" in text or "chdir" in text or "addsitedir" in text


def _submission_sources(submission: Submission, folder: Path):
    """(tree, file, text) for every cell that imports or edits a path and parses: a .py file's
    path is its ``__file__``."""
    for cell in submission.cells:
        if "import" not in cell.source and not _may_edit_paths(cell.source):
            continue
        try:
            tree = parsed(cell.source)
        except (SyntaxError, ValueError):
            continue
        if cell.module and cell.origin.endswith(".py"):
            file = str(folder / cell.origin)
        elif not cell.origin and submission.path.suffix.lower() == ".py":
            file = str(submission.path.resolve())
        else:
            file = None  # a notebook cell has no __file__
        yield tree, file, cell.source


def _imports(tree: ast.AST):
    """Every import statement, at any depth of statements (in a function, an ``if``, a ``try``):
    statements only, never the expressions inside them, which are most of a tree."""
    stack = list(getattr(tree, "body", ()))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, field, None)
            if isinstance(children, list):
                stack.extend(c for c in children if isinstance(c, ast.AST))


class _Stager:
    def __init__(self, root: Path, folder: Path, home: str, ceiling: Path | None,
                 protect: tuple[Path, ...] = ()) -> None:
        self.root, self.folder, self.home, self.ceiling, self.protect = root, folder, home, ceiling, protect
        self.files: dict[str, bytes] = {}
        self.total = 0
        self.search: list[Path] = []
        self.pending: list[Path] = []  # module files staged whose own imports are still to follow
        self.followed: set[str] = set()
        self.unreachable: dict[str, Unreachable] = {}

    def key(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def add_bytes(self, key: str, data: bytes) -> bool:
        if key in self.files:
            return True
        if len(self.files) >= MAX_FILES or self.total + len(data) > MAX_BYTES:
            return False
        self.files[key] = data
        self.total += len(data)
        return True

    def add_file(self, path: Path) -> bool:
        """Stage one module file found by an import; False past the limits."""
        real = path.resolve()
        if not self.reachable(real):
            return False
        key = self.key(real)
        if key in self.files:
            self._queue(real)
            return True
        try:
            if real.stat().st_size > MAX_FILE_BYTES or not real.is_file():
                return False
            data = real.read_bytes()
        except OSError:
            return False
        if not self.add_bytes(key, data):
            return False
        self._queue(real)
        return True

    def reachable(self, real: Path) -> bool:
        return _is_within(real, self.root) and _allowed(real, self.ceiling) \
            and not any(_is_within(real, p) for p in self.protect)

    def _queue(self, real: Path) -> None:
        if str(real) not in self.followed:
            self.followed.add(str(real))
            self.pending.append(real)

    def drain(self) -> None:
        while self.pending:
            path = self.pending.pop(0)
            text = decode_source(self.files.get(self.key(path), b""))
            try:
                tree = ast.parse(text or "")
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue  # the worker reports where it breaks
            if _may_edit_paths(text or ""):
                found = [Path(e.folder) for e in path_edits(tree, str(path), str(self.folder))]
                self.search += [f for f in found if f not in self.search]
            self.follow(tree, path)

    def follow(self, tree: ast.AST, file: Path | None) -> None:
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.resolve(alias.name.split("."), ())
            elif isinstance(node, ast.ImportFrom):
                names = tuple(a.name for a in node.names if a.name != "*")
                if node.level and file is not None:
                    base = file.parent
                    for _up in range(node.level - 1):
                        base = base.parent
                    self.resolve((node.module or "").split(".") if node.module else [], names, [base])
                elif node.module:
                    self.resolve(node.module.split("."), names)

    def resolve(self, parts: list[str], names: tuple[str, ...], search: list[Path] | None = None) -> None:
        """Stage what ``from PARTS import NAMES`` (or ``import PARTS``) finds first on the search path."""
        parts = [p for p in parts if p][:MAX_PACKAGE_DEPTH]
        if search is None and (not parts or parts[0] in sys.builtin_module_names):
            return
        for folder in dict.fromkeys(search if search is not None else self.search):
            if parts and not (folder / parts[0]).is_dir() and not (folder / f"{parts[0]}.py").is_file():
                continue
            if not self.reachable(folder.resolve()):
                self._unreachable(".".join(parts), folder, parts, "outside")
                return
            self._stage_path(folder, parts, names)
            return

    def _stage_path(self, folder: Path, parts: list[str], names: tuple[str, ...]) -> None:
        current = folder
        for index, part in enumerate(parts):
            module = current / f"{part}.py"
            package = current / part
            if package.is_dir():
                init = package / "__init__.py"
                if init.is_file():
                    self._stage_module(init, folder, parts[:index + 1])
                current = package
            elif module.is_file():
                self._stage_module(module, folder, parts[:index + 1])
                return  # names after a module are its attributes
            else:
                return
        for name in names:  # ``from common import functions``: a submodule
            module, package = current / f"{name}.py", current / name / "__init__.py"
            for candidate in (module, package):
                if candidate.is_file():
                    self._stage_module(candidate, folder, parts + [name])

    def _stage_module(self, path: Path, folder: Path, parts: list[str]) -> None:
        """Stage one module file; an unreachable one (a link out of the root, or past the limits) is noted."""
        if not self.add_file(path):
            why = "limits" if self.reachable(path.resolve()) else "outside"
            self._unreachable(".".join(parts), folder, parts, why)

    def _unreachable(self, module: str, folder: Path, parts: list[str], why: str) -> None:
        target = folder.joinpath(*parts)
        looked_for = target if target.is_dir() else target.with_name(target.name + ".py")
        shown = os.path.relpath(looked_for, self.folder).replace(os.sep, "/")
        self.unreachable.setdefault(module, Unreachable(module, shown, why))
