"""The folders a student's code puts on ``sys.path`` (or ``os.chdir``\\s into), read from its syntax.

Learners reach their own helpers the way the book taught them: ``sys.path.append(os.pardir)``,
``sys.path.append('..')``, ``sys.path.insert(0, '../chapter3')``,
``sys.path.append(os.path.join(os.path.dirname(__file__), '..'))``,
``sys.path.append(str(Path(__file__).resolve().parent.parent))``, often through a name
(``parent = os.path.dirname(current); sys.path.append(parent)``). The grader needs those folders
before anything runs, to stage them for the worker: the expressions are evaluated here, in the
trusted process, over the few path operations they use. Nothing is executed; an expression this
reader does not know gives nothing (the folder is then simply not staged, as before).
"""
from __future__ import annotations

import ast
import os
from typing import NamedTuple

MAX_NODES = 20_000  # statements looked at per source: a chapter's file has a few hundred


class PathEdit(NamedTuple):
    """A folder the code puts on the import path (``kind`` "path") or changes into ("chdir")."""

    kind: str
    folder: str  # absolute and normalised, on the grading machine
    line: int


def path_edits(tree: ast.Module, file: str | None, cwd: str) -> list[PathEdit]:
    """The ``sys.path`` additions and ``os.chdir`` calls of ``tree``, in the order they appear.

    ``file``: the source's own path (``__file__``), None for a notebook cell; ``cwd``: the folder
    it runs from (relative entries and ``os.getcwd()`` are read against it, as Python does after
    each ``os.chdir``)."""
    reader = _Reader(file, cwd)
    edits: list[PathEdit] = []
    for count, node in enumerate(_statements(tree)):
        if count >= MAX_NODES:
            break
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = reader.value(node.value)
            if value is not None:
                reader.names[node.targets[0].id] = value
            else:
                reader.names.pop(node.targets[0].id, None)
        elif isinstance(node, ast.AugAssign) and _is_sys_path(node.target) and isinstance(node.op, ast.Add):
            edits += [PathEdit("path", reader.absolute(v), node.lineno) for v in reader.items(node.value)]
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            edits += reader.call(node.value, node.lineno)
    return edits


def _statements(tree: ast.Module):
    """Every statement, in source order, nested ones included (an edit inside ``if``/``try``/a
    function counts: learners wrap them in ``try`` or ``if __name__``)."""
    stack = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        yield node
        children = [c for field in ("body", "orelse", "finalbody", "handlers") for c in getattr(node, field, ()) or ()]
        stack.extend(reversed(children))


def _is_sys_path(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "path" and isinstance(node.value, ast.Name) \
        and node.value.id == "sys"


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


class _Reader:
    """Evaluates the path expressions learners write to a string, or None when it cannot tell."""

    def __init__(self, file: str | None, cwd: str) -> None:
        self.file, self.cwd = file, cwd
        self.names: dict[str, str] = {}

    def absolute(self, value: str) -> str:
        return os.path.normpath(os.path.join(self.cwd, os.path.expanduser(value) if value.startswith("~") else value))

    def call(self, call: ast.Call, line: int) -> list[PathEdit]:
        name = _dotted(call.func)
        if name in ("sys.path.append", "sys.path.insert") and call.args:
            value = self.value(call.args[-1])
            return [PathEdit("path", self.absolute(value), line)] if value is not None else []
        if name == "sys.path.extend" and call.args:
            return [PathEdit("path", self.absolute(v), line) for v in self.items(call.args[0])]
        if name in ("os.chdir", "site.addsitedir") and call.args:
            value = self.value(call.args[0])
            if value is None:
                return []
            folder = self.absolute(value)
            if name == "os.chdir":
                self.cwd = folder
                return [PathEdit("chdir", folder, line)]
            return [PathEdit("path", folder, line)]
        return []

    def items(self, node: ast.AST) -> list[str]:
        if isinstance(node, (ast.List, ast.Tuple)):
            return [v for v in (self.value(e) for e in node.elts) if v is not None]
        return []

    def value(self, node: ast.AST) -> str | None:
        try:
            return self._value(node, 0)
        except (TypeError, ValueError, IndexError, RecursionError):
            return None

    def _value(self, node: ast.AST, depth: int) -> str | None:
        if depth > 30:
            return None
        value = lambda n: self._value(n, depth + 1)  # noqa: E731 (one level deeper)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            if node.id == "__file__":
                return self.file
            return self.names.get(node.id)
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted in ("os.pardir", "os.path.pardir"):
                return os.pardir
            if dotted in ("os.curdir", "os.path.curdir"):
                return os.curdir
            if dotted in ("os.sep", "os.path.sep"):
                return "/"
            if node.attr == "parent":  # Path(...).parent
                inner = value(node.value)
                return os.path.dirname(self.absolute(inner)) if inner is not None else None
            return None
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and \
                node.value.attr == "parents" and isinstance(node.slice, ast.Constant) and \
                type(node.slice.value) is int and 0 <= node.slice.value < 16:
            inner = value(node.value.value)
            if inner is None:
                return None
            folder = os.path.dirname(self.absolute(inner))
            for _level in range(node.slice.value):
                folder = os.path.dirname(folder)
            return folder
        if isinstance(node, ast.BinOp):
            left, right = value(node.left), value(node.right)
            if left is None or right is None:
                return None
            if isinstance(node.op, ast.Div):  # Path / "name"
                return os.path.join(left, right)
            if isinstance(node.op, ast.Add):
                return left + right
            return None
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    parts.append(part.value)
                elif isinstance(part, ast.FormattedValue) and part.format_spec is None:
                    inner = value(part.value)
                    if inner is None:
                        return None
                    parts.append(inner)
                else:
                    return None
            return "".join(parts)
        if isinstance(node, ast.Call):
            return self._call_value(node, value)
        return None

    def _call_value(self, node: ast.Call, value) -> str | None:
        name = _dotted(node.func)
        args = [value(a) for a in node.args]
        if any(a is None for a in args) or node.keywords:
            return None
        if name in ("os.getcwd", "Path.cwd", "pathlib.Path.cwd") and not args:
            return self.cwd
        if name == "os.path.join" and args:
            return os.path.join(*args)
        if name in ("os.path.abspath", "os.path.realpath", "os.path.normpath") and len(args) == 1:
            return self.absolute(args[0])
        if name == "os.path.dirname" and len(args) == 1:
            return os.path.dirname(args[0]) or os.curdir
        if name in ("Path", "pathlib.Path", "PurePath", "pathlib.PurePath", "str", "os.fspath"):
            return os.path.join(*args) if args else (os.curdir if name != "str" else None)
        if isinstance(node.func, ast.Attribute) and not args:
            inner = value(node.func.value)
            if inner is None:
                return None
            if node.func.attr in ("resolve", "absolute"):
                return self.absolute(inner)
            if node.func.attr in ("as_posix", "__str__"):
                return inner
        if isinstance(node.func, ast.Attribute) and node.func.attr == "joinpath":
            inner = value(node.func.value)
            return os.path.join(inner, *args) if inner is not None else None
        return None
