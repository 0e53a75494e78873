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
* ``plot``: a statement that calls a plotting library (``plt.plot(...)``, ``fig, ax =
  plt.subplots()``) runs against do-nothing stand-ins of the library, costs no demo
  budget, and is never listed: plots are not graded;
* ``demo``: everything else (calls, prints, other loops) is demo code: each such
  statement gets a small CPU-time budget, all of them together a slightly larger one,
  and a statement past its budget is abandoned. Once the total is spent the rest
  of the demo code is skipped without running.

``if __name__ == "__main__":`` blocks run as a definition does: in grading the
submission is not the main program, so the block's body is never entered.

The report lists the statements that were skipped or abandoned, grouped by cause.
"""
from __future__ import annotations

import ast
from functools import lru_cache

RUN, DEMO, SKIP, PLOT = "run", "demo", "skip", "plot"
TRAINING_WORDS = ("gradient", "train", "fit", "learn")
PLOTTING_MODULES = ("matplotlib", "pylab", "mpl_toolkits", "seaborn", "PIL")


@lru_cache(maxsize=256)
def parsed(source: str) -> ast.Module:
    """The syntax tree of a cell, parsed once however many stages read it (never modify it).
    Raises SyntaxError as ast.parse does."""
    return ast.parse(source)


def plan(source: str, plotting: set[str] | None = None) -> list[str]:
    """One category per top-level statement, in the order ``ast.parse(source).body`` gives.

    ``plotting``: names bound to plotting libraries so far (``plt``); the plan adds the
    names this source binds to them, so a notebook's cells share one set, in order.
    """
    try:
        tree = parsed(source)
    except (SyntaxError, ValueError):
        return []
    plotting = set() if plotting is None else plotting
    categories = []
    for node in tree.body:
        _note_plotting_imports(node, plotting)
        category = classify(node, plotting)
        if category == PLOT:
            plotting.update(_assigned(node))  # fig, ax = plt.subplots(): ax.plot(...) is plotting too
        categories.append(category)
    return categories


def _note_plotting_imports(node: ast.stmt, plotting: set[str]) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.partition(".")[0] in PLOTTING_MODULES:
                plotting.add(alias.asname or alias.name.partition(".")[0])
    elif isinstance(node, ast.ImportFrom) and node.module and node.module.partition(".")[0] in PLOTTING_MODULES:
        plotting.update(alias.asname or alias.name for alias in node.names if alias.name != "*")


def _assigned(node: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _is_main_guard(node: ast.stmt) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__" \
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)


def _calls_plotting(node: ast.stmt, plotting: set[str]) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            root = sub.func
            while isinstance(root, (ast.Attribute, ast.Call, ast.Subscript)):
                root = root.func if isinstance(root, ast.Call) else root.value
            if isinstance(root, ast.Name) and root.id in plotting:
                return True
    return False


def classify(node: ast.stmt, plotting: set[str] = frozenset()) -> str:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom,
                         ast.Pass, ast.Global)) or _is_main_guard(node):
        return RUN
    if plotting and _calls_plotting(node, plotting):
        return PLOT
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
    return names_bound_by(node)


def names_bound_by(node: ast.AST) -> set[str]:
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            names.update(alias.asname or alias.name.partition(".")[0] for alias in sub.names if alias.name != "*")
    return names
