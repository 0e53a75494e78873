"""The student's definitions: every version of every function and class they wrote.

The worker reports which names were bound by the student's own code (and in which
statement); here that is joined with the source to tell finished work from TODO
stubs, and to pick, per exercise, the candidates to grade.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..specs.exercises import Exercise
from ..i18n import _
from ..loaders.base import Submission
from .toplevel import parsed


@dataclass(frozen=True)
class Definition:
    name: str
    version: int
    cell: str
    line: int
    kind: str
    stub: bool
    place: str  # "line 12", "In [3], line 2"
    versions: int = 1  # how many times the student defined this name in the same module
    ordinal: int = 0  # which of those this is (0 = first); ``version`` numbers all modules together
    module: str = ""  # the module it was defined in (a folder's files are modules of their own)
    params: tuple[int, int | None] | None = None  # (required, most) positional parameters of a function
    param_names: tuple[str, ...] = ()  # the names of those parameters, in order
    uses: tuple[tuple[str, int], ...] = ()  # the student's definitions its code calls, (name, version)
    found_as: str = ""  # how it was found when not by an accepted name (see grader.finding)
    # A one-line wrapper that only passes its arguments on to an imported function: the
    # dotted name it calls and the module that comes from. Not the student's work.
    wraps: tuple[str, str] | None = None
    # Every call its code makes to a function of the bundled book helpers, (dotted name, module):
    # one that calls the book's own version of the exercise it is graded as hands the work over,
    # however it is dressed up (``g = _ng(f, x); return g``).
    book_calls: tuple[tuple[str, str], ...] = ()
    # Where the book has this very code, when it is the book's (grader/submission/book_code.py):
    # a copied book file, or the book's version of a helper in common/ or dataset/.
    book: Any = None
    book_file: str = ""  # and the file it is in, as the student names it ("../common/gradient.py")
    book_listing: bool = False  # the student's own, matching a listing printed in the book

    def hands_over(self, exercise: Exercise) -> tuple[str, str] | None:
        """(called, module) when this definition is not the student's work for ``exercise``."""
        if self.wraps:
            return self.wraps
        return next(((called, qualified.rpartition(".")[0]) for called, qualified in self.book_calls
                     if exercise.matches(qualified.rpartition(".")[2])), None)

    @property
    def target(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version}

    @property
    def label(self) -> str:
        if self.versions > 1:
            return _("{name} (version {version} of {versions}, {place})").format(
                name=self.name, version=self.ordinal + 1, versions=self.versions, place=self.place)
        return f"{self.name} ({self.place})"


@dataclass(frozen=True)
class Inventory:
    written: tuple[Definition, ...]
    imported: tuple[tuple[str, str], ...]  # (name, module) bound by an import, not written
    book: tuple[Definition, ...] = ()  # the book's own code in the submission: never a candidate

    def books(self, exercise: Exercise) -> list[Definition]:
        """The book's definitions that would have been this exercise, had the student written them."""
        return [d for d in self.book if exercise.matches(d.name) and d.kind == exercise.kind]

    def candidates(self, exercise: Exercise) -> list[Definition]:
        """The student's non-stub definitions for an exercise, the preferred first.

        Functions: in the spec's order of names, newest version first. Classes: the
        newest definition of any accepted name first.
        """
        own = [d for d in self.written if not d.stub and not d.hands_over(exercise) and exercise.matches(d.name)
               and d.kind == exercise.kind]
        if exercise.kind == "class":
            return sorted(own, key=lambda d: (int(d.cell) if d.cell.isdigit() else 0, d.line), reverse=True)
        order = {name: i for i, name in enumerate(exercise.names)}
        return sorted(own, key=lambda d: (order[d.name], -d.version))

    def stubs(self, exercise: Exercise) -> list[Definition]:
        return [d for d in self.written if d.stub and exercise.matches(d.name)]

    def imports(self, exercise: Exercise) -> list[tuple[str, str]]:
        return [(n, m) for n, m in self.imported if exercise.matches(n)]

    def wrappers(self, exercise: Exercise) -> list[Definition]:
        """Definitions with an accepted name that only call an imported function."""
        return [d for d in self.written if exercise.matches(d.name) and d.hands_over(exercise)]


def arrange(definition: Definition, reference_names: tuple[str, ...], args: tuple,
            positional: int = 0) -> tuple[tuple, dict]:
    """The case's arguments as the student's function takes them.

    Positionally, as the book calls them, unless the student's function has the reference's
    parameter names in another order (``gradient_descent(f, init_x, step_num=100, lr=0.01)``):
    then from the first place where the order differs, by name, as the book's
    ``gradient_descent(function_2, init_x=init_x, lr=0.1, step_num=100)`` does. A function with
    other names (``learn_rate``, ``step``) is called positionally. The first ``positional``
    arguments are always passed by position.
    """
    names, wanted = definition.param_names, reference_names[:len(args)]
    if not names or len(wanted) < len(args) or not set(wanted) <= set(names) or names[:len(args)] == wanted:
        return args, {}
    first = next(i for i, name in enumerate(wanted) if i >= len(names) or names[i] != name)
    first = max(first, positional)
    if first >= len(args):
        return args, {}
    return args[:first], {wanted[i]: args[i] for i in range(first, len(args))}


def is_stub(node: ast.AST) -> bool:
    """A TODO placeholder: only a docstring, ``pass``, ``...`` or ``raise NotImplementedError``."""
    if isinstance(node, ast.ClassDef):
        methods = [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        others = [n for n in node.body if n not in methods and not _is_placeholder(n)]
        return not others and all(is_stub(m) for m in methods)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return all(_is_placeholder(n) for n in node.body)
    return False


def _is_placeholder(node: ast.stmt) -> bool:
    if isinstance(node, ast.Pass):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return isinstance(node.value.value, str) or node.value.value is Ellipsis
    if isinstance(node, ast.Raise) and node.exc is not None:
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


def _find_definition(tree: ast.Module, line: int, name: str,
                     by_line: dict[int, list[ast.stmt]] | None = None) -> ast.AST | None:
    statements = by_line.get(line, []) if by_line is not None else [s for s in tree.body if s.lineno == line]
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
                return node
    return None


def build_inventory(submission: Submission, reported: dict[str, Any]) -> Inventory:
    trees: dict[str, dict[int, list[ast.stmt]] | None] = {}  # cell -> its top-level statements by line
    written = []
    nodes: list[ast.AST | None] = []  # the syntax of each written definition, where it is found
    for item in reported.get("written", []):
        cell_id = str(item["cell"])
        cell = submission.cell(cell_id)
        if cell_id not in trees:
            try:
                tree = parsed(cell.source) if cell else None
            except (SyntaxError, ValueError):
                tree = None
            by_line: dict[int, list[ast.stmt]] = {}
            for statement in tree.body if tree else ():
                by_line.setdefault(statement.lineno, []).append(statement)
            trees[cell_id] = by_line if tree else None
        by_line = trees[cell_id]
        node = _find_definition(None, int(item["line"]), str(item["name"]), by_line) if by_line else None
        nodes.append(node if node is not None else _find_lambda(by_line or {}, int(item["line"]), str(item["name"])))
        line = int(item["line"]) + (cell.first_line - 1 if cell else 0)
        written.append(Definition(str(item["name"]), int(item["version"]), cell_id, line, str(item["kind"]),
                                  bool(node is not None and is_stub(node)),
                                  cell.place(line) if cell else str(line), params=_params(item.get("params")),
                                  uses=tuple((str(u[0]), u[1]) for u in _list(item.get("uses"))
                                             if isinstance(u, list) and len(u) == 2 and type(u[1]) is int),
                                  module=str(item.get("module", "")),
                                  param_names=tuple(n for n in _list(item.get("param_names")) if isinstance(n, str))))
    # "version 2 of 3" counts redefinitions within one module (a notebook, a file): the same name
    # in two files of a folder is two definitions, each in its own place.
    counts: dict[tuple[str, str], int] = {}
    ordinals = []
    for d in written:
        key = (d.name, d.module)
        ordinals.append(counts.get(key, 0))
        counts[key] = counts.get(key, 0) + 1
    written = [replace(d, versions=counts[(d.name, d.module)], ordinal=ordinal) for d, ordinal in zip(written, ordinals)]
    sources = _import_sources(submission)
    imported = tuple((str(i["name"]), sources.get(str(i["name"]), str(i["module"])))
                     for i in reported.get("imported", []) if isinstance(i, dict))
    own = {(d.name, d.module) for d in written}
    roots = _import_roots(submission)
    written = [replace(d, wraps=_wrapped_import(node, dict(imported), roots, own),
                       book_calls=_book_calls(node, dict(imported), roots, own)) if node is not None else d
               for d, node in zip(written, nodes)]
    return Inventory(tuple(written), imported)


# The book's helper modules the grader bundles for student code (grader/compat: the packages
# common and dataset, and ch04's own functions, gradient_1d and gradient_2d).
BOOK_PACKAGES = frozenset(p.name if p.is_dir() else p.stem for p in (Path(__file__).parents[1] / "compat").iterdir()
                          if not p.name.startswith(("_", ".")) and (p.is_dir() or p.suffix == ".py"))


def _find_lambda(by_line: dict[int, list[ast.stmt]], line: int, name: str) -> ast.Lambda | None:
    """``name = lambda ...`` at top level on ``line``."""
    for statement in by_line.get(line, []):
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Lambda) and \
                any(isinstance(t, ast.Name) and t.id == name for t in statement.targets):
            return statement.value
    return None


def _wrapped_import(node: ast.AST, imported: dict[str, str], roots: dict[str, str],
                    own: set[tuple[str, str]]) -> tuple[str, str] | None:
    """(called, module) when ``node`` is a one-line wrapper around an imported function.

    ``def cross_entropy_error(y, t): return common.functions.cross_entropy_error(y, t)`` or
    ``numerical_gradient = lambda f, x: _ng(f, x)``: the body (after a docstring) is a single
    call that receives the wrapper's own parameters unchanged, of a function that an import
    bound (the worker's list of imported names, or a module an import statement named), and
    that is not the student's own (a module of their own ``common/`` is their work). Judged
    here from the source, in the trusted process: the student's code says nothing about it.
    """
    if isinstance(node, ast.Lambda):
        arguments, body = node.args, node.body
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        statements = node.body[1:] if node.body and isinstance(node.body[0], ast.Expr) and \
            isinstance(node.body[0].value, ast.Constant) and isinstance(node.body[0].value.value, str) else node.body
        if len(statements) != 1 or not isinstance(statements[0], ast.Return) or statements[0].value is None:
            return None
        arguments, body = node.args, statements[0].value
    else:
        return None
    if not isinstance(body, ast.Call):
        return None
    params = {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
    params |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
    passed = [a.value if isinstance(a, ast.Starred) else a for a in body.args] + [k.value for k in body.keywords]
    if not all(isinstance(a, ast.Name) and a.id in params for a in passed):
        return None
    chain = _dotted(body.func)
    if not chain or chain[0] in params:
        return None
    if len(chain) == 1:
        module = imported.get(chain[0])
    else:
        root = roots.get(chain[0])
        module = ".".join([root] + chain[1:-1]) if root is not None else None
        if (chain[-1], module) in own:
            return None
    if module is None or module.partition(".")[0] not in BOOK_PACKAGES:
        return None  # np.zeros_like(x) is a stub's body, not someone else's answer
    return ".".join(chain), module


def _book_calls(node: ast.AST, imported: dict[str, str], roots: dict[str, str],
                own: set[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Every call in ``node`` to a function of the bundled book helpers: (the call as written, the
    function's full dotted name). ``from common.gradient import numerical_gradient as _ng`` makes
    ``_ng(f, x)`` a call of ``common.gradient.numerical_gradient``."""
    calls = []
    for call in ast.walk(node):
        chain = _dotted(call.func) if isinstance(call, ast.Call) else []
        if not chain:
            continue
        if len(chain) == 1:
            qualified = roots.get(chain[0]) or (f"{imported[chain[0]]}.{chain[0]}" if chain[0] in imported else None)
        else:
            root = roots.get(chain[0])
            qualified = ".".join([root] + chain[1:]) if root is not None else None
        if qualified is None or qualified.partition(".")[0] not in BOOK_PACKAGES:
            continue  # numpy, a local name, the student's own
        module, _dot, function = qualified.rpartition(".")
        if (function, module) not in own:
            calls.append((".".join(chain), qualified))
    return tuple(dict.fromkeys(calls))


def _import_roots(submission: Submission) -> dict[str, str]:
    """name -> the dotted module (or module member) a top-level import bound it to:
    ``import common.functions`` binds ``common`` to ``common``; ``import common.functions as cf``
    binds ``cf`` to ``common.functions``; ``from common import functions`` binds ``functions``
    to ``common.functions``."""
    roots: dict[str, str] = {}
    for cell in submission.cells:
        try:
            tree = parsed(cell.source)
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                roots.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names if a.name != "*"})
            elif isinstance(node, ast.Import):
                roots.update({a.asname: a.name for a in node.names if a.asname})
                roots.update({a.name.partition(".")[0]: a.name.partition(".")[0] for a in node.names if not a.asname})
    return roots


def _dotted(node: ast.expr) -> list[str]:
    """``common.functions.softmax`` as its parts; [] for anything but names and attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return []
    return [node.id] + parts[::-1]


def _list(value: Any) -> list:
    """A list from the worker's reply, or nothing: the reply is data to check, never to trust."""
    return value if isinstance(value, list) else []


def _params(value: Any) -> tuple[int, int | None] | None:
    if isinstance(value, list) and len(value) == 2 and type(value[0]) is int and (
            value[1] is None or type(value[1]) is int):
        return value[0], value[1]
    return None


def _import_sources(submission: Submission) -> dict[str, str]:
    """name -> the module the student's own import statement named (`functions`, not where it lives)."""
    sources: dict[str, str] = {}
    for cell in submission.cells:
        try:
            tree = parsed(cell.source)
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    if alias.name != "*":
                        sources[alias.asname or alias.name] = node.module
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    sources[alias.asname or alias.name.partition(".")[0]] = alias.name
    return sources


def definition_source(submission: Submission, definition: Definition) -> tuple[str, int] | None:
    """The source text of a definition and the line it starts on, as the student sees it."""
    cell = submission.cell(definition.cell)
    if cell is None:
        return None
    try:
        tree = parsed(cell.source)
    except (SyntaxError, ValueError):
        return None
    node = _find_definition(tree, definition.line - cell.first_line + 1, definition.name)
    if node is None:
        return None
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    lines = cell.source.splitlines()[start - 1:node.end_lineno]
    return "\n".join(lines), start + cell.first_line - 1
