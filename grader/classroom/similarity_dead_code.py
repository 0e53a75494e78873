"""Statements that cannot change what a student's code does, blanked before it is fingerprinted.

The cheapest disguise of a copy is dead code: ``unused = 12``, ``if 3 < 0: print("x")`` put
between the copied lines. Every inserted statement breaks the token windows around it, and in a
short function that is most of them. JPlag normalises such code away for the same reason. What
is blanked here, and only where the code parses:

* an assignment in a function whose every target is a name that nothing in the snippet reads, and whose value
  calls nothing (a call may have an effect: it stays);
* an ``if`` whose test is made of constants only and is false (its ``else`` stays, unindented
  by nothing: the lines are blanked, not moved).

Lines are blanked, never removed, so the evidence shown to the teacher keeps the student's own
line numbers.
"""
from __future__ import annotations

import ast
import operator

_PURE = (ast.Constant, ast.Name, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.List, ast.Tuple,
         ast.Set, ast.Dict, ast.Attribute, ast.Subscript, ast.Slice, ast.Load, ast.expr_context, ast.operator,
         ast.unaryop, ast.boolop, ast.cmpop)


def _calls_nothing(node: ast.AST) -> bool:
    return all(isinstance(child, _PURE) for child in ast.walk(node))


_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.Eq: operator.eq, ast.NotEq: operator.ne}


def _number(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float, bool)


def _constant_false(test: ast.expr) -> bool:
    """``if 0:``, ``if False:``, ``if 123 < 0:``. Nothing is evaluated but one comparison of two
    literal numbers (never ``eval``: this is a student's code, read by the grading process)."""
    if isinstance(test, ast.Constant):
        return not test.value
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _COMPARE
            and _number(test.left) and _number(test.comparators[0])):
        return not _COMPARE[type(test.ops[0])](test.left.value, test.comparators[0].value)
    return False


def _alone(lines: list[str], node: ast.stmt) -> bool:
    """Whether the statement has its lines to itself (``a = 1; b = f()`` shares one)."""
    first, last = lines[node.lineno - 1], lines[(node.end_lineno or node.lineno) - 1]
    after = last.encode("utf-8")[node.end_col_offset or 0:].decode("utf-8", "replace").strip()
    return not first[:node.col_offset].strip() and (not after or after.startswith("#"))


def without_dead_code(code: str) -> str:
    """``code`` with its dead statements' lines blanked (unchanged when it does not parse)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return code
    # One walk (three were most of the comparison's time): the names read anywhere, and the
    # assignments and ifs inside functions (a class's or a cell's own names are read elsewhere).
    read: set[str] = set()
    candidates: list[ast.stmt] = []
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, in_function = stack.pop()
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Store):
                read.add(node.id)
            continue
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            read.update(node.names)
        elif in_function and isinstance(node, (ast.Assign, ast.If)):
            candidates.append(node)
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        stack.extend((child, inner) for child in ast.iter_child_nodes(node))
    lines = code.split("\n")
    dead: list[tuple[int, int]] = []
    for node in candidates:
        if not _alone(lines, node):
            continue
        if isinstance(node, ast.Assign):
            if all(isinstance(t, ast.Name) and t.id not in read for t in node.targets) and _calls_nothing(node.value):
                dead.append((node.lineno, node.end_lineno or node.lineno))
        elif not node.orelse and _constant_false(node.test):
            dead.append((node.lineno, node.end_lineno or node.lineno))
    if not dead:
        return code
    for first, last in dead:
        for number in range(first - 1, min(last, len(lines))):
            lines[number] = ""
    return "\n".join(lines)
