"""A parameter the book does not have: call the student's function as their own code calls it.

``def cross_entropy_error(y, t, one_hot_label=True)`` computes the book's loss for integer
labels only when called with ``one_hot_label=False``, and the student's own code says so
(``cross_entropy_error(y, t_label, one_hot_label=False)``). Before a case is failed, the
function is also called with each setting of such a parameter that the student's code uses,
and with the other value of a ``True``/``False`` default.

Only settings that choose a way of computing are tried: booleans, None and strings, written
as literals. A number passed in a call (``answer=0.51``) is never tried: it could carry the
answer instead of choosing how to compute it. The value still has to be right for the case's
inputs, and the ``cases`` check takes back what a constant earns.
"""
from __future__ import annotations

import ast
from typing import Any

from ..submission.definitions import Definition
from ..submission.toplevel import parsed
from ..loaders.base import Submission

MAX_SETTINGS = 4
SWITCH_TYPES = (bool, str, type(None))


def keyword_settings(submission: Submission, definition: Definition, book_arity: int) -> list[tuple[dict, bool]]:
    """The settings of ``definition``'s extra parameters to try, as (keywords, seen in the student's code)."""
    extra, positional = _extra_parameters(submission, definition, book_arity)
    if not extra:
        return []
    settings: list[tuple[dict, bool]] = []
    for keywords in _calls_in_code(submission, definition.name, extra, positional, book_arity):
        if keywords and any(extra[name] != value for name, value in keywords.items()):
            settings.append((keywords, True))
    for name, default in extra.items():
        if type(default) is bool:
            settings.append(({name: not default}, False))
    unique: list[tuple[dict, bool]] = []
    for keywords, seen in settings:
        if all(keywords != other for other, _seen in unique):
            unique.append((keywords, seen))
    return unique[:MAX_SETTINGS]


_NO_DEFAULT = object()


def _extra_parameters(submission: Submission, definition: Definition,
                      book_arity: int) -> tuple[dict[str, Any], list[str]]:
    """The parameters after the book's ones that have a literal switch-like default (name -> default),
    and the names of all the positional ones after the book's, in order (what a call's extra
    positional arguments land in)."""
    node = _function_node(submission, definition)
    if node is None:
        return {}, []
    arguments = node.args
    positional = arguments.posonlyargs + arguments.args
    defaults = [_NO_DEFAULT] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
    pairs = list(zip(positional, defaults))[book_arity:] + list(zip(arguments.kwonlyargs, arguments.kw_defaults))
    extra = {}
    for argument, default in pairs:
        if default is _NO_DEFAULT or default is None:
            return {}, []  # a parameter the book's call cannot leave out: not a setting
        if isinstance(default, ast.Constant) and isinstance(default.value, SWITCH_TYPES):
            extra[argument.arg] = default.value
    return extra, [argument.arg for argument in positional[book_arity:]]


def _function_node(submission: Submission, definition: Definition) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The ``def`` of ``definition`` in its cell's syntax tree (parsed once for the whole grading)."""
    cell = submission.cell(definition.cell)
    if definition.kind != "function" or cell is None:
        return None
    try:
        tree = parsed(cell.source)
    except (SyntaxError, ValueError):
        return None
    line = definition.line - cell.first_line + 1
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    return next((n for n in tree.body if isinstance(n, kinds) and n.name == definition.name and n.lineno == line),
                None) or next((n for n in ast.walk(tree) if isinstance(n, kinds) and n.name == definition.name
                               and n.lineno == line), None)


def _calls_in_code(submission: Submission, name: str, extra: dict[str, Any], positional: list[str],
                   book_arity: int) -> list[dict]:
    """The literal switch values each call of ``name`` in the student's code passes to ``extra``
    (by keyword, or by position into ``positional``)."""
    found = []
    for cell in submission.cells + submission.helpers:
        if name not in cell.source:
            continue
        try:
            tree = parsed(cell.source)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _called_name(node.func) != name:
                continue
            keywords = {}
            for position, argument in enumerate(node.args[book_arity:]):
                if position < len(positional) and positional[position] in extra and _switch(argument):
                    keywords[positional[position]] = argument.value
            for keyword in node.keywords:
                if keyword.arg in extra and _switch(keyword.value):
                    keywords[keyword.arg] = keyword.value.value
            found.append(keywords)
    return found


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _switch(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, SWITCH_TYPES)
