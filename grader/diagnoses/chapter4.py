"""The misconceptions students of chapter 4 show again and again, registered like any plugin's.

Each rule recomputes a known wrong variant of the answer on the inputs the check
used, or tests a simple property of what came back. Messages name the mistake and
point at the fix without handing over the code. This module holds numerical
differentiation, gradients and gradient descent, and registers every built-in rule: the
losses' (:mod:`.losses`), the networks' (:mod:`.networks`), answers not computed
(:mod:`.credit`) and mistakes in any code (:mod:`.code_mistakes`).
"""
from __future__ import annotations

import ast
from typing import Any

import numpy as np

from ..checking.comparisons import as_numeric
from ..checking.context import materialize
from .model import DiagnosisRule, Evidence, close, syntax_trees
from ..hookspecs import hookimpl
from . import code_mistakes, credit, imports, losses, networks
from ..i18n import N_

H = 1e-4
TINY_STEP = 1e-10  # a step at or below this vanishes next to x in floating point


def _numbers(value: Any) -> np.ndarray | None:
    return as_numeric(value)


def _returns_the_same_for_every_input(e: Evidence) -> bool:
    """The cases check found the answers to be one constant (see grader.checking.cases)."""
    return any(o.extra.get("constant") for o in e.observations)


# ---- numerical differentiation ---------------------------------------------------------

def _forward_difference(e: Evidence) -> bool:
    for o in e.failed("cases"):
        f, x = materialize(o.args[0]), o.args[1]
        if close(o.actual, (f(x + H) - f(x)) / H, rtol=1e-9):
            return True
    return False


def _tiny_step_in_code(e: Evidence) -> bool:
    """A number like 1e-50 in the graded code (True when the code is not known)."""
    trees = syntax_trees(e)
    return not e.sources or any(isinstance(node, ast.Constant) and type(node.value) is float and
                                0 < node.value <= TINY_STEP for tree in trees for node in ast.walk(tree))


def _step_too_small(e: Evidence) -> bool:
    # A step that vanishes gives 0 for every input: a function that also got a book case right
    # (a table of the book's answers, 0 elsewhere) has some other cause, and so has a 0 returned
    # for every input by code with no such step in it (a stub's `return 0`).
    if any(o.book and o.passed for o in e.observations):
        return False
    if _returns_the_same_for_every_input(e) and not _tiny_step_in_code(e):
        return False
    for o in e.failed("cases"):
        f, x = materialize(o.args[0]), o.args[1]
        got = _numbers(o.actual)
        if got is None or got.shape != ():
            continue
        if float(got) == 0.0 and float(o.expected) != 0.0:
            return True
        for h in (1e-50, 1e-30, 1e-20, 1e-15, 1e-12, 1e-10):
            with np.errstate(all="ignore"):
                variants = ((f(x + h) - f(x - h)) / (2 * h), (f(x + h) - f(x)) / h)
            if any(close(got, v, rtol=1e-9) for v in variants):
                return True
    return False


def _diff_precedence(e: Evidence) -> bool:
    """``(f(x+h) - f(x-h)) / 2*h`` or ``f(x+h) - f(x-h) / (2*h)``: Python divides before it subtracts,
    and ``/ 2*h`` multiplies by h."""
    for o in e.failed("cases"):
        f, x = materialize(o.args[0]), o.args[1]
        with np.errstate(all="ignore"):
            variants = ((f(x + H) - f(x - H)) / 2 * H, f(x + H) - f(x - H) / (2 * H), f(x + H) - f(x) / H,
                        (f(x + H) - f(x)) / 1 * H)
        if any(close(o.actual, v, rtol=1e-9) for v in variants):
            return True
    return False


# ---- gradients ---------------------------------------------------------------------------

def _gradient_1d_only(e: Evidence) -> bool:
    """1-D inputs pass; 2-D ones break the code (x[idx] is a row) or come back in the wrong shape."""
    flat = [o for o in e.observations if o.check == "cases" and np.ndim(o.args[1]) == 1]
    multi = [o for o in e.failed("cases") if np.ndim(o.args[1]) >= 2]
    broken = [o for o in multi if o.error is not None or np.shape(o.actual) != np.shape(o.expected)]
    return bool(broken) and bool(flat) and all(o.passed for o in flat) and not _gradient_row_wise(e)


def _row_wise_gradient(f: Any, x: np.ndarray) -> np.ndarray:
    """The book's gradient_2d.numerical_gradient: each row of X is a separate point, f sees one row."""
    from grader._reference.gradients import numerical_gradient
    grad = np.zeros_like(x, dtype=float)
    for row in range(x.shape[0]):
        grad[row] = numerical_gradient(f, x[row].astype(float).copy())
    return grad


def _gradient_row_wise(e: Evidence) -> bool:
    """2-D inputs give, row by row, the gradient of f at each row taken as a point of its own."""
    for o in e.failed("cases"):
        if np.ndim(o.args[1]) != 2 or o.actual is None:
            continue
        try:
            with np.errstate(all="ignore"):
                variant = _row_wise_gradient(materialize(o.args[0]), np.asarray(o.args[1], dtype=float))
        except Exception:
            continue
        if close(o.actual, variant, rtol=1e-6, atol=1e-8):
            return True
    return False


def _input_not_restored(e: Evidence) -> bool:
    return bool(e.failed("cases.unchanged"))


def _gradient_ascent(e: Evidence) -> bool:
    """Every failed case that tells ascent from descent ended where ``x += lr * grad`` ends, or
    uphill of its start; one such case alone is not enough, since an answer that ignores its
    input (a printed point, a constant) lands uphill of some random starts by chance."""
    from grader._reference.gradients import numerical_gradient

    supported = False
    for o in e.failed("cases"):
        f, x, lr, steps = materialize(o.args)
        x = np.array(x, dtype=float)
        start_x = x.copy()
        start = float(f(x.copy()))
        for _step in range(int(steps)):
            x += lr * numerical_gradient(f, x)
            if not np.all(np.isfinite(x)):
                break
        got = _numbers(o.actual[0] if isinstance(o.actual, tuple) else o.actual)
        # (Only where ascent and descent end apart: with lr = 1e-10 both barely leave the start.)
        if got is None or got.shape != start_x.shape or close(o.expected, x, rtol=1e-6):
            continue
        if close(got, x, rtol=1e-6):
            supported = True
            continue
        # Uphill along the gradient, every coordinate the way its slope rises, not merely to a higher
        # point: a broken numerical_gradient (one number for all of x) moves x somewhere worse too.
        if not np.all(np.isfinite(got)):  # blown up: says nothing about which way it went
            continue
        if float(f(got)) > start and _climbs(got - start_x, numerical_gradient(
                f, start_x.copy())):
            supported = True
            continue
        return False
    return supported


def _climbs(moved: np.ndarray, slope: np.ndarray) -> bool:
    steep = np.abs(slope) > 1e-9
    return bool(steep.any()) and bool(np.all(np.sign(moved[steep]) == np.sign(slope[steep])))


def _descent_assigns_step(e: Evidence) -> bool:
    """``x = lr * grad`` in the loop: x is replaced by the step instead of moved by it."""
    from grader._reference.gradients import numerical_gradient

    for o in e.failed("cases"):
        f, x, lr, steps = materialize(o.args)
        x = np.array(x, dtype=float)
        with np.errstate(all="ignore"):
            for _step in range(int(steps)):
                x = lr * numerical_gradient(f, x)
        got = _numbers(o.actual[0] if isinstance(o.actual, tuple) else o.actual)
        # Only where the replaced x stays away from 0: zeros returned for every input match any
        # x = lr * grad that has shrunk to nothing, and say nothing about the loop.
        if got is not None and np.all(np.isfinite(x)) and float(np.max(np.abs(x), initial=0.0)) > 1e-6 and \
                close(got, x, rtol=1e-6, atol=1e-12):
            return True
    return False


def _gradient_overwritten(e: Evidence) -> bool:
    """``grad = ...`` in the loop instead of ``grad[idx] = ...``: one number comes back, the derivative
    in the last element (and, when the code is known, it has a returned name assigned whole in a loop)."""
    if e.sources and not _overwritten_names(e):
        return False
    for o in e.failed("cases"):
        got, expected = _numbers(o.actual), np.asarray(o.expected, dtype=float)
        if got is not None and got.size == 1 and expected.size > 1 and \
                close(got.reshape(()), expected.reshape(-1)[-1], rtol=1e-6, atol=1e-8):
            return True
    return False


def _overwritten_names(e: Evidence) -> list[str]:
    """Names a function returns and assigns whole (``grad = ...``, not ``grad[idx] = ...``) inside a loop."""
    found = []
    for tree in syntax_trees(e):
        for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            returned = {n.value.id for n in ast.walk(function) if isinstance(n, ast.Return) and
                        isinstance(n.value, ast.Name)}
            for loop in (n for n in ast.walk(function) if isinstance(n, (ast.For, ast.While))):
                found += [t.id for n in ast.walk(loop) if isinstance(n, (ast.Assign, ast.AugAssign))
                          for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                          if isinstance(t, ast.Name) and t.id in returned and t.id not in found]
    return found


def _gradient_overwritten_details(e: Evidence) -> dict[str, Any]:
    names = _overwritten_names(e)
    return {"name": names[0] if names else "grad"}


RULES = [
    DiagnosisRule("diff-operator-precedence", ("numerical_diff",), N_(
        "The parentheses are off: Python divides before it subtracts, and `/ 2*h` divides by 2 and then "
        "multiplies by h. Write (f(x+h) - f(x-h)) / (2*h) (book 4.3.1)."), _diff_precedence),
    DiagnosisRule("forward-difference", ("numerical_diff",), N_(
        "Your result matches the forward difference (f(x+h) - f(x)) / h, whose error shrinks only like h. "
        "The book uses the central difference around x, which is far more accurate (book 4.3.1)."),
                  _forward_difference),
    DiagnosisRule("step-too-small", ("numerical_diff",), N_(
        "The step h is too small: with something like 1e-50, x + h rounds back to x in floating point "
        "and the difference becomes 0. The book uses h = 1e-4 (book 4.3.1)."), _step_too_small),
    DiagnosisRule("gradient-1d-only", ("numerical_gradient",), N_(
        "It works for 1-D inputs but not for a 2-D array such as simpleNet's W: x[idx] with a single "
        "index takes a whole row. Visit every element, e.g. with np.nditer(..., flags=['multi_index']) "
        "or np.ndindex(x.shape) (book 4.4.2)."), _gradient_1d_only),
    DiagnosisRule("gradient-overwritten", ("numerical_gradient",), N_(
        "numerical_gradient returns a single number, the derivative in the last element of x only, where an "
        "array shaped like x is expected: in the loop, `{name} = ...` replaces the whole gradient by one "
        "number at every element. Store each element's derivative in its own place, {name}[idx] = "
        "(fxh1 - fxh2) / (2*h), and return {name} after the loop (book 4.4)."), _gradient_overwritten,
                  _gradient_overwritten_details,
                  summary=N_("numerical_gradient returns a single number where an array shaped like x is expected:"
                      " the loop assigns each element's derivative to the whole gradient instead of to that"
                      " element's place (book 4.4).")),
    DiagnosisRule("gradient-row-wise", ("numerical_gradient",), N_(
        "For a 2-D array your function treats each row as a separate point, like the book's "
        "gradient_2d.numerical_gradient, which is made for plotting many points at once. simpleNet's W is "
        "one point with 2 x 3 coordinates: f must see the whole array with one element moved by h. Visit "
        "every element, e.g. with np.nditer(x, flags=['multi_index']) as in common/gradient.py (book 4.4.2)."),
                  _gradient_row_wise),
    DiagnosisRule("input-not-restored", ("numerical_gradient",), N_(
        "The input array is changed after the call: after computing f(x+h) and f(x-h), put the "
        "original value back into x[idx]. Otherwise every later coordinate, and the network's "
        "parameters, drift by h (book 4.4)."), _input_not_restored),
    DiagnosisRule("descent-assigns-step", ("gradient_descent",), N_(
        "Each step replaces x by lr * grad instead of moving x by it: write x -= lr * grad (or x = x - lr * "
        "grad), so that x keeps its position and steps against the gradient (book 4.4.1)."),
                  _descent_assigns_step),
    DiagnosisRule("gradient-ascent", ("gradient_descent",), N_(
        "x moves uphill: the function grows instead of shrinking. Gradient descent steps against "
        "the gradient, subtracting lr times the gradient (book 4.4.1)."), _gradient_ascent),
]


@hookimpl
def grader_diagnoses() -> list[DiagnosisRule]:
    return losses.RULES + RULES + credit.RULES + networks.RULES + imports.RULES + code_mistakes.RULES
