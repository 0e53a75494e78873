"""The book's own code in a submission, known by fingerprint (DESIGN.md principle 8).

Learners keep the book's repository beside their work: a copied ``common/``, ``dataset/``,
sometimes a chapter file (``two_layer_net.py``) or the book's notebook. What the book wrote is
not the student's work, wherever it sits:

* a file (or notebook) whose normalised syntax is a version of a book file is the book's file;
* in a helper folder (``common/``, ``dataset/``), a function or class that is the book's version
  of it is the book's, even when the student changed the rest of the file;
* anywhere else, a function the student wrote that matches a listing printed in the book stays
  theirs (typing the listing is the exercise): it is only marked ``book_listing``.

The book's code stays importable exactly as the student's code uses it; it is only never graded
as their work, unless the assignment says so (``book_code = "credited"``). The fingerprints come
from the ``grader_book_code`` hook (the packaged index of the book's two public repositories,
and whatever an instructor's plugin adds): see grader/submission/book_index.py.
"""
from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Iterable, NamedTuple

from ..hookspecs import hookimpl
from ..loaders.base import CodeCell, Submission
from ..report import BookCode
from .book_index import EMPTY_MODULE, PACKAGED_INDEX, BookIndex, BookMatch, book_file, load_index
from .definitions import Definition, Inventory
from .fingerprint import node_fingerprint, top_level_definitions, tree_analysis
from .toplevel import parsed

HELPER_FOLDERS = ("common", "dataset")
NOT_CREDITED, CREDITED = "not-credited", "credited"
BOOK_RULES = (NOT_CREDITED, CREDITED)


class BookReading(NamedTuple):
    """What of a submission is the book's: whole files by cell, and definitions by (cell, name)."""

    files: dict[str, BookMatch]
    definitions: dict[tuple[str, str], BookMatch]
    helper_cells: frozenset[str]  # cells of files in a helper folder (common/, dataset/)
    shown: dict[str, str]  # cell -> the file as the student names it

    def is_book(self, definition: Definition) -> BookMatch | None:
        """The book's place for a definition that is the book's code, else None."""
        whole = self.files.get(definition.cell)
        if whole is not None:
            return whole
        if definition.cell in self.helper_cells:
            return self.definitions.get((definition.cell, definition.name))
        return None

    def is_listing(self, definition: Definition) -> bool:
        return self.is_book(definition) is None and (definition.cell, definition.name) in self.definitions


@lru_cache(maxsize=8)
def _index(paths: tuple[tuple[str, int, int], ...]) -> BookIndex:
    return load_index(Path(p) for p, _size, _mtime in paths)


def index_from(paths: Iterable[Path]) -> BookIndex:
    """The index of these files, loaded once while they are unchanged."""
    keyed = []
    for path in paths:
        stat = Path(path).stat()
        keyed.append((str(path), stat.st_size, stat.st_mtime_ns))
    return _index(tuple(keyed))


def read_book_code(submission: Submission, index: BookIndex) -> BookReading:
    """Which of the submission's files and definitions are the book's.

    Cheap where it can be: a file none of whose top-level names is a book definition's name has
    no book definition, and a file with no definition gives nothing to grade either way, so
    neither is fingerprinted; the others reuse the grader's own parse of their code."""
    files: dict[str, BookMatch] = {}
    definitions: dict[tuple[str, str], BookMatch] = {}
    helper_cells: set[str] = set()
    shown: dict[str, str] = {}
    names_of_book = index.definition_names
    for cells, shown_name, notebook_path in _files_of(submission):
        for cell in cells:
            shown[cell.id] = shown_name
        if _in_helper_folder(shown_name):
            helper_cells.update(cell.id for cell in cells)
        named = 0
        found: dict[tuple[str, str], BookMatch] = {}
        for cell in cells:
            tree = _tree(cell.source) if names_of_book.intersection(DEFINED.findall(cell.source)) else None
            if tree is None:  # none of its names is the book's (or it does not parse)
                named += len(set(TOP_LEVEL.findall(cell.source)))
                continue
            nodes = top_level_definitions(tree)
            named += len(nodes)
            for name, node in nodes.items():
                if name not in names_of_book:
                    continue
                fingerprint = node_fingerprint(node)
                match = next((m for book_name, m in index.definition_matches(fingerprint) if book_name == name), None)
                if match is not None:
                    found[(cell.id, name)] = match
        definitions.update(found)
        # A file is the book's only if all its definitions are (every definition of every book
        # file is indexed): else, or with none at all, the whole-file fingerprint is not needed.
        if not named or len(found) < named:
            continue
        if notebook_path is not None:
            match = _notebook_match(notebook_path, shown_name, index)
        elif len(cells) == 1:
            analysis = tree_analysis(_tree(cells[0].source))
            match = _file_match(index, analysis[0], shown_name) if analysis else None
        else:
            match = None
        if match is not None:
            files.update({cell.id: match for cell in cells})
    return BookReading(files, definitions, frozenset(helper_cells), shown)


# A top-level (or once-indented, inside ``if``/``try``) def or class: the names a file may share
# with the book. A gate only: what it lets through is fingerprinted from the syntax tree.
DEFINED = re.compile(r"^(?:[ \t]{0,8})(?:async[ \t]+)?(?:def|class)[ \t]+([^\W\d]\w*)", re.MULTILINE)


TOP_LEVEL = re.compile(r"^(?:async[ \t]+)?(?:def|class)[ \t]+([^\W\d]\w*)", re.MULTILINE)


def _tree(source: str):
    try:
        return parsed(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _file_match(index: BookIndex, fingerprint: str, shown: str) -> BookMatch | None:
    if fingerprint == EMPTY_MODULE:
        return None
    matches = index.file_matches(fingerprint)
    tail = "/" + shown.replace("\\", "/").lstrip("./")
    preferred = [m for m in matches if tail.endswith("/" + m.path.rpartition("/")[2])]
    return (preferred or list(matches) or [None])[0]


def _notebook_match(path: Path, shown: str, index: BookIndex) -> BookMatch | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return book_file(text, notebook=True, path=shown, index=index)


def _in_helper_folder(shown: str) -> bool:
    parts = shown.replace("\\", "/").split("/")
    return any(part in HELPER_FOLDERS for part in parts[:-1])


def _files_of(submission: Submission):
    """(cells, the file's name as the student knows it, the notebook's path or None), per file."""
    folder = submission.folder
    if not submission.path.is_dir():
        notebook = submission.path if submission.path.suffix.lower() == ".ipynb" else None
        if submission.cells:
            yield list(submission.cells), submission.path.name, notebook
    else:
        groups: dict[str, list[CodeCell]] = {}
        for cell in submission.cells:
            groups.setdefault(cell.module or cell.id, []).append(cell)
        for module, cells in groups.items():
            if module.startswith("__dlfs_submission__/"):
                name = module.partition("/")[2]
                yield cells, name, folder / name
            else:
                yield cells, cells[0].origin or module, None
    for helper in submission.helpers:
        yield [helper], helper.origin, None


def apply_rule(inventory: Inventory, reading: BookReading, rule: str) -> Inventory:
    """The inventory with the book's definitions set apart (``Inventory.book``) unless ``rule``
    credits them, and the student's definitions that match a book listing marked as such."""
    own, book = [], []
    for definition in inventory.written:
        match = reading.is_book(definition)
        if match is not None:
            definition = replace(definition, book=match, book_file=reading.shown.get(definition.cell, ""))
            (own if rule == CREDITED else book).append(definition)
        else:
            own.append(replace(definition, book_listing=True) if reading.is_listing(definition) else definition)
    return replace(inventory, written=tuple(own), book=tuple(book))


def book_code_lines(reading: BookReading, inventory: Inventory) -> tuple[BookCode, ...]:
    """One entry per file of the book's: the whole file, or the definitions of a helper file that are."""
    entries: dict[str, BookCode] = {}
    for cell, match in reading.files.items():
        name = reading.shown.get(cell, "")
        entries.setdefault(name, BookCode(name, match.repository, match.path, match.commit))
    partial: dict[str, list[str]] = {}
    firsts: dict[str, BookMatch] = {}
    for (cell, name), match in reading.definitions.items():
        if cell in reading.files or cell not in reading.helper_cells:
            continue
        shown = reading.shown.get(cell, "")
        partial.setdefault(shown, []).append(name)
        firsts.setdefault(shown, match)
    for shown, names in partial.items():
        if shown not in entries:
            match = firsts[shown]
            entries[shown] = BookCode(shown, match.repository, match.path, match.commit, tuple(sorted(set(names))))
    return tuple(entries[k] for k in sorted(entries))


@hookimpl
def grader_book_code() -> list[Path]:
    """The book's two public repositories, every version of every file (book_index.json)."""
    return [PACKAGED_INDEX]
