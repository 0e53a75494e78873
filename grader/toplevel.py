"""Which top-level statements of a submission run, and how: grading never runs what it does not need.

Notebooks written while reading the book end in training loops: 10,000 steps of
numerical gradients over MNIST, hours of work that grading does not need, since it
calls the student's functions itself. The rule, statement by statement:

* ``run``: definitions (``def``, ``class``), imports and assignments that call nothing
  (``delta = 1e-7``, ``t = [0, 0, 1]``, ``f = lambda x: ...``) always run;
* ``skip``: a top-level statement that calls a gradient or training function
  (``network.numerical_gradient(...)``, ``gradient_descent(...)``, ``net.train(...)``),
  alone or in a loop, is a training step and is not run at all: a single numerical
  gradient of the book's 784-100-10 network takes minutes;
* ``demo``: everything else (calls, prints, other loops) is demo code: each such
  statement gets a small time budget, all of them together a slightly larger one,
  and a statement past its budget is abandoned. Once the total is spent the rest
  of the demo code is skipped without running.

The report lists every statement that was skipped or abandoned.
"""
from __future__ import annotations

import ast

RUN, DEMO, SKIP = "run", "demo", "skip"
TRAINING_WORDS = ("gradient", "train", "fit", "learn")


def plan(source: str) -> list[str]:
    """One category per top-level statement, in the order ``ast.parse(source).body`` gives."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [classify(node) for node in tree.body]


def classify(node: ast.stmt) -> str:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom,
                         ast.Pass, ast.Global)):
        return RUN
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None \
            and not _calls(node.value):
        return RUN
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return RUN
    if _calls_training(node):
        return SKIP
    return DEMO


def _calls(node: ast.AST) -> bool:
    """Does evaluating this expression call anything? Lambda bodies are not evaluated."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Call):
            return True
        if isinstance(current, ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(current))
    return False


def _calls_training(loop: ast.AST) -> bool:
    for node in ast.walk(loop):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if any(word in name.lower() for word in TRAINING_WORDS):
                return True
    return False


def bound_names(source: str, index: int) -> set[str]:
    """Names the top-level statement number ``index`` of ``source`` assigns."""
    try:
        node = ast.parse(source).body[index]
    except (SyntaxError, IndexError):
        return set()
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)
    return names
