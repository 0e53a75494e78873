"""Fingerprints of Python code that survive the edits a copier makes without writing anything.

A learner who copies the book's ``common/functions.py`` often re-indents it, translates or
deletes its comments, swaps quote styles or drops the ``# coding: utf-8`` line. None of that
is work, so none of it may change a fingerprint. A fingerprint is therefore taken of the
syntax tree, not of the text: the first 16 hex digits of the sha256 of a canonical dump of
the tree, with docstrings removed. A changed operator, constant, name or argument changes
the tree and so the fingerprint.

The dump is our own walk rather than ``ast.dump``: ``ast.dump`` prints every field
positionally, and Python adds fields between versions (``type_params`` in 3.12) and 3.13
leaves empty ones out, so its text, and any fingerprint of it, would depend on the Python
that computed it. Here every field is named and empty or absent fields are never written,
so the index built once matches on every supported Python.

Everything is cached by content: the same file is fingerprinted by several stages of one
grading (and by every student of a class who copied it).
"""
from __future__ import annotations

import ast
import json
import warnings
from functools import lru_cache
from typing import Any

FINGERPRINT_DIGITS = 16

# Fields that record how code was written or what the parser can infer, not what it does:
# ``ctx`` (Load/Store/Del) follows from the position; ``kind`` is the ``u`` of u"..."; type
# comments are comments.
_IGNORED_FIELDS = frozenset({"ctx", "kind", "type_comment", "type_ignores"})
_WITH_DOCSTRING = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
_DEFINITIONS = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
# Blocks whose direct definitions still count as top-level: ``if __name__ == ...``,
# ``try: import x except ImportError: def x(...)``.
_TOP_LEVEL_BLOCKS = (ast.If, ast.Try, ast.ExceptHandler) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())
# Cell magics whose body is Python run in the kernel; any other (%%bash, %%writefile, %%html)
# holds something that is not this notebook's Python.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})

Definitions = tuple[tuple[str, str], ...]


def _sha256():
    """SHA-256 from CPython's own module when it has one (``_sha256``, ``_sha2`` in 3.12+): hashlib
    loads OpenSSL, 4-5 ms of every grading on a slow machine, for the same digest."""
    for name in ("_sha2", "_sha256"):
        try:
            return __import__(name).sha256
        except (ImportError, AttributeError):
            continue
    import hashlib
    return hashlib.sha256


_SHA256 = None


def _fingerprint(dump: str) -> str:
    global _SHA256
    if _SHA256 is None:
        _SHA256 = _sha256()
    # surrogatepass: a hostile file may hold lone surrogates in an identifier-free string.
    return _SHA256(dump.encode("utf-8", "surrogatepass")).hexdigest()[:FINGERPRINT_DIGITS]


def _without_docstring(body: list[ast.stmt], node: ast.AST) -> list[ast.stmt]:
    """The body without its docstring; a body that held only a docstring becomes ``pass``,
    so ``def f(): "todo"`` and ``def f(): pass`` are the same code (a module may be empty)."""
    first = body[0] if body else None
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        body = body[1:]
        if not body and not isinstance(node, ast.Module):
            body = [ast.Pass()]
    return body


def _dump(node: ast.AST, out: list[str], found: list[tuple[str, int, int]] | None) -> None:
    """Append the canonical text of ``node`` to ``out``.

    ``found`` (only while walking the module and its top-level if/try blocks) collects
    (name, start, end) spans of ``out`` for each definition met there: a definition's
    fingerprint is taken from the span, so one walk serves the file and its definitions.
    """
    out.append(type(node).__name__)
    out.append("(")
    for field in node._fields:
        if field in _IGNORED_FIELDS:
            continue
        value = getattr(node, field, None)
        if isinstance(value, list):
            if field == "body" and isinstance(node, _WITH_DOCSTRING):
                value = _without_docstring(value, node)
            elif isinstance(node, ast.JoinedStr):
                # Some 3.12 releases leave an empty Constant in a format spec (f"{x:>{w}}"): no code.
                value = [part for part in value if not (isinstance(part, ast.Constant) and part.value == "")]
        if value is None or (isinstance(value, list) and not value):
            continue  # absent or empty: written by no version, so versions agree
        out.append(field)
        out.append("=")
        if isinstance(value, list):
            out.append("[")
            for item in value:
                if not isinstance(item, ast.AST):
                    out.append(repr(item))  # names in Global/Nonlocal, MatchClass kwd_attrs
                elif found is not None and isinstance(item, _DEFINITIONS):
                    start = len(out)
                    _dump(item, out, None)
                    found.append((item.name, start, len(out)))
                elif found is not None and isinstance(item, _TOP_LEVEL_BLOCKS):
                    _dump(item, out, found)
                else:
                    _dump(item, out, None)
                out.append(",")
            out.append("]")
        elif isinstance(value, ast.AST):
            _dump(value, out, None)
        else:
            # Constants: repr keeps 1, 1.0, True and '1' apart and is the same whatever quotes,
            # escapes or implicit concatenation the source used.
            out.append(repr(value))
        out.append(",")
    out.append(")")


def _walk(tree: ast.Module) -> tuple[str, Definitions]:
    """(fingerprint, definitions in source order) of a module, from one walk."""
    out: list[str] = []
    found: list[tuple[str, int, int]] = []
    _dump(tree, out, found)
    definitions = tuple((name, _fingerprint("".join(out[start:end]))) for name, start, end in found)
    return _fingerprint("".join(out)), definitions


def _parse(source: str) -> ast.Module | None:
    if source.startswith("\ufeff"):  # a BOM left by a Windows editor is not code
        source = source[1:]
    try:
        with warnings.catch_warnings():
            # "invalid escape sequence" and friends would otherwise print once per parse.
            warnings.simplefilter("ignore")
            return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # Python 2, a fragment, null bytes, or nesting too deep for the parser


@lru_cache(maxsize=512)
def _analysis(source: str) -> tuple[str, Definitions] | None:
    """(fingerprint, definitions in source order) of a source, or None if it does not parse.
    Only these small results are cached, never the tree or its dump."""
    tree = _parse(source)
    return None if tree is None else _analysed(tree)


def _analysed(tree: ast.Module) -> tuple[str, Definitions] | None:
    try:
        return _walk(tree)
    except RecursionError:
        return None  # a parseable expression deeper than our walk may go (thousands of terms)


def tree_analysis(tree: ast.Module) -> tuple[str, Definitions] | None:
    """(file fingerprint, definitions) of an already parsed module (never changed here): the
    grader's own parse of a submission is reused rather than parsed again."""
    return _analysed(tree)


def node_fingerprint(node: ast.AST) -> str:
    """The fingerprint of one function or class node: the same as its entry in
    :func:`definition_fingerprints` of the module that holds it."""
    return _fingerprint(normalised_dump(node))


def top_level_definitions(tree: ast.Module) -> dict[str, ast.AST]:
    """The module's top-level functions and classes (also directly inside a top-level ``if`` or
    ``try``), by name, the last of a name winning: the nodes :func:`definition_fingerprints` reads."""
    found: dict[str, ast.AST] = {}

    def visit(body: list) -> None:
        for item in body:
            if isinstance(item, _DEFINITIONS):
                found.pop(item.name, None)
                found[item.name] = item
            elif isinstance(item, _TOP_LEVEL_BLOCKS):
                for field in ("body", "orelse", "finalbody", "handlers"):
                    visit([n for n in getattr(item, field, None) or [] if isinstance(n, ast.AST)])
    visit(tree.body)
    return found


def normalised_dump(node: ast.AST) -> str:
    """The canonical text of a syntax tree: no comments, docstrings, formatting, quote style,
    type comments or line numbers; every field named, empty fields left out."""
    out: list[str] = []
    _dump(node, out, None)
    return "".join(out)


def file_fingerprint(source: str) -> str | None:
    """The fingerprint of a Python 3 source file, or None when it does not parse."""
    analysis = _analysis(source)
    return None if analysis is None else analysis[0]


def definition_fingerprints(source: str) -> dict[str, str]:
    """Fingerprint of each top-level function and class (also those directly inside a
    top-level ``if``/``try``), by name; a name defined twice keeps its last definition, as
    Python does. Empty when the source does not parse."""
    analysis = _analysis(source)
    return {} if analysis is None else dict(analysis[1])


def all_definition_fingerprints(source: str) -> Definitions:
    """Every top-level (name, fingerprint) in source order, redefinitions included (the index
    keeps each version a file ever had)."""
    analysis = _analysis(source)
    return () if analysis is None else analysis[1]


def _without_magics(cell: str) -> list[str]:
    """The cell's candidate Python texts, best first: as written (a line may start with the
    ``%`` operator when it continues an expression), then with IPython's ``%magic`` and
    ``!shell`` lines dropped at the margin, then with indented ones dropped too (in a loop)."""
    lines = cell.splitlines()
    if lines and lines[0].startswith("%%"):
        magic = lines[0][2:].split(None, 1)
        if not magic or magic[0] not in _PYTHON_CELL_MAGICS:
            return []
        lines = lines[1:]
    candidates = ["\n".join(lines),
                  "\n".join(line for line in lines if not line.startswith(("%", "!"))),
                  "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))]
    return list(dict.fromkeys(candidates))  # without repeats: a cell without magics is parsed once


@lru_cache(maxsize=128)
def _notebook_analysis(code_cells: tuple[str, ...]) -> tuple[str, Definitions] | None:
    statements: list[ast.stmt] = []
    for cell in code_cells:
        for text in _without_magics(cell):
            tree = _parse(text)
            if tree is not None:
                statements.extend(tree.body)
                break
    if not statements:
        return None
    # One module of all cells: moving a statement to the next cell is not a change of code,
    # and a notebook holding exactly a book file's code gets that file's fingerprint.
    return _analysed(ast.Module(body=statements, type_ignores=[]))


def notebook_fingerprint(code_cells: list[str]) -> str | None:
    """The fingerprint of a notebook's code: its code cells in order, magics and shell lines
    dropped, cells that do not parse skipped. None when no cell parses."""
    analysis = _notebook_analysis(tuple(code_cells))
    return None if analysis is None else analysis[0]


def notebook_definition_fingerprints(code_cells: list[str]) -> Definitions:
    """Every top-level (name, fingerprint) of a notebook's code, in order."""
    analysis = _notebook_analysis(tuple(code_cells))
    return () if analysis is None else analysis[1]


def notebook_code_cells(text: str) -> list[str]:
    """The code cells of an .ipynb text, in order (nbformat 4, and 3's worksheets); [] when the
    text is not a notebook. Read with json alone: this runs on every graded notebook."""
    try:
        notebook: Any = json.loads(text)
    except (ValueError, RecursionError):
        return []
    if not isinstance(notebook, dict):
        return []
    cells = notebook.get("cells")
    key = "source"
    if cells is None:  # nbformat 3: cells inside worksheets, code under "input"
        key = "input"
        worksheets = notebook.get("worksheets")
        cells = [cell for sheet in worksheets if isinstance(sheet, dict)
                 for cell in sheet.get("cells") or ()] if isinstance(worksheets, list) else []
    if not isinstance(cells, list):
        return []
    code: list[str] = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get(key, "")
        if isinstance(source, list):
            source = "".join(part for part in source if isinstance(part, str))
        if isinstance(source, str):
            code.append(source)
    return code
