"""The misconceptions students of chapter 4 show again and again, registered like any plugin's.

Each rule recomputes a known wrong variant of the answer on the inputs the check
used, or tests a simple property of what came back. Messages name the mistake and
point at the fix without handing over the code.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..checking.comparisons import as_numeric
from ..checking.context import materialize
from .model import (DiagnosisRule, Evidence, Observation, close, error_text, non_finite,
                       normalised_over_whole_batch)
from ..hookspecs import hookimpl
from . import code_mistakes
from ..i18n import N_

H = 1e-4
FUNCTION_EXERCISES = ("sum_squares_error", "cross_entropy_error", "numerical_diff", "numerical_gradient",
                      "gradient_descent")


def _numbers(value: Any) -> np.ndarray | None:
    return as_numeric(value)


# ---- losses ---------------------------------------------------------------------------

def _sse_missing_half(e: Evidence) -> bool:
    return any(close(o.actual, 2 * np.asarray(o.expected, dtype=float)) for o in e.failed("cases"))


def _cee_without_delta(y: np.ndarray, t: np.ndarray) -> float:
    y2, t2 = (y.reshape(1, -1), np.asarray(t).reshape(1, -1)) if y.ndim == 1 else (y, np.asarray(t))
    n = y2.shape[0]
    with np.errstate(all="ignore"):
        if t2.size == y2.size:
            return float(-np.sum(t2 * np.log(y2)) / n)
        return float(-np.sum(np.log(y2[np.arange(n), t2.reshape(-1).astype(int)])) / n)


def _cee_missing_delta(e: Evidence) -> bool:
    for o in e.failed("cases"):
        if non_finite(o.actual) and not non_finite(o.expected):
            return True
        y, t = o.args
        if o.actual is not None and close(o.actual, _cee_without_delta(np.asarray(y), t), rtol=1e-10):
            return True
    return False


def _cee_batch_not_averaged(e: Evidence) -> bool:
    for o in e.failed("cases"):
        y = np.asarray(o.args[0])
        if y.ndim == 2 and y.shape[0] > 1 and close(o.actual, float(o.expected) * y.shape[0], rtol=1e-7):
            return True
    return False


def _single_sample_not_reshaped(e: Evidence) -> bool:
    for o in e.failed("cases"):
        y = np.asarray(o.args[0])
        if y.ndim != 1:
            continue
        if close(o.actual, float(o.expected) / y.size, rtol=1e-7):
            return True
        if o.error and o.error.type == "IndexError" and "too many indices" in o.error.message:
            return True
    # Batches fine, single samples wrong: the 1-D case is the only difference.
    singles = [o for o in e.failed("cases") if np.asarray(o.args[0]).ndim == 1]
    batches = [o for o in e.observations if o.check == "cases" and np.asarray(o.args[0]).ndim == 2]
    # Only errors a missing reshape causes: a misspelt ``y.reshpae`` is another mistake.
    return bool(singles) and bool(batches) and all(o.passed for o in batches) and \
        all(o.error is not None and o.error.type in ("IndexError", "ValueError") for o in singles)


def _cee_wrong_sign(e: Evidence) -> bool:
    return any(float(np.sum(np.abs(np.asarray(o.expected, dtype=float)))) > 0 and close(o.actual, -np.asarray(
        o.expected, dtype=float), rtol=1e-7) for o in e.failed("cases"))


def _is_one_hot(y: Any, t: Any) -> bool:
    return np.shape(y) == np.shape(t) and np.ndim(t) >= 1


def _cee_onehot_indexed(e: Evidence) -> bool:
    """``y[np.arange(n), t]`` with one-hot ``t``: NumPy refuses float indices, or picks the wrong entries."""
    onehot = [o for o in e.failed("cases") if len(o.args) == 2 and _is_one_hot(o.args[0], o.args[1])]
    for o in onehot:
        if o.error is not None and o.error.type == "IndexError" and (
                "integer" in o.error.message or "shape mismatch" in o.error.message):
            return True
    return False


# ---- numerical differentiation ---------------------------------------------------------

def _forward_difference(e: Evidence) -> bool:
    for o in e.failed("cases"):
        f, x = materialize(o.args[0]), o.args[1]
        if close(o.actual, (f(x + H) - f(x)) / H, rtol=1e-9):
            return True
    return False


def _step_too_small(e: Evidence) -> bool:
    # A step that vanishes gives 0 for every input: a function that also got a book case right
    # (a table of the book's answers, 0 elsewhere) has some other cause.
    if any(o.book and o.passed for o in e.observations):
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


def _net_params_not_restored(e: Evidence) -> bool:
    return bool(e.failed("two_layer_net.params_unchanged"))


def _net_gradient_never_reaches_loss(e: Evidence) -> bool:
    """All-zero gradients while the loss does change with the parameters (the check moved one)."""
    for o in e.failed("two_layer_net.numerical_gradient"):
        if o.extra.get("loss_reads_params") and isinstance(o.actual, dict) and o.actual and all(
                isinstance(v, np.ndarray) and v.size and not np.any(v) for v in o.actual.values()):
            return True
    return False


def _gradient_ascent(e: Evidence) -> bool:
    from grader._reference.gradients import numerical_gradient

    for o in e.failed("cases"):
        f, x, lr, steps = materialize(o.args)
        x = np.array(x, dtype=float)
        start = float(f(x.copy()))
        for _step in range(int(steps)):
            x += lr * numerical_gradient(f, x)
            if not np.all(np.isfinite(x)):
                break
        got = _numbers(o.actual[0] if isinstance(o.actual, tuple) else o.actual)
        if got is None:
            continue
        if close(got, x, rtol=1e-6) or (np.all(np.isfinite(got)) and float(f(got)) > start):
            return True
    return False


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
        if got is not None and close(got, x, rtol=1e-6, atol=1e-12):
            return True
    return False


def _hard_coded(e: Evidence) -> bool:
    """Right on (some of) the book's examples, wrong elsewhere, with answers that ignore the input."""
    book = [o for o in e.observations if o.book and o.passed]
    fresh = [o for o in e.failed() if o.actual is not None and o.outcome == "wrong"]
    if not book or not fresh:
        return False
    printed = [o.actual for o in book]
    answers = [o.actual for o in fresh]
    repeats = sum(any(close(a, p, rtol=1e-12) for p in printed) for a in answers)
    constant = len(answers) >= 2 and all(close(a, answers[0], rtol=1e-12) for a in answers)
    # Zeros of whatever shape was asked for (`table.get(x, np.zeros_like(x))`) while the book's
    # own cases come out right: a lookup of the printed answers with a placeholder elsewhere.
    numeric = [as_numeric(a) for a in answers]
    placeholder = len(answers) >= 2 and all(a is not None and a.size and not np.any(a) for a in numeric)
    return constant or placeholder or (repeats >= min(2, len(answers)) and 2 * repeats >= len(answers))


# ---- networks -----------------------------------------------------------------------------

def _softmax_overflow(e: Evidence) -> bool:
    return any(o.extra.get("large_logits") and (non_finite(o.actual) or "overflow" in error_text(o))
               for o in e.failed())


def _output_layer(o: Observation) -> np.ndarray:
    p, x = o.extra["params"], o.extra["x"]
    z1 = 1 / (1 + np.exp(-(x @ p["W1"] + p["b1"])))
    return z1 @ p["W2"] + p["b2"]


def _softmax_whole_batch(e: Evidence) -> bool:
    return any(normalised_over_whole_batch(o.actual) for o in e.failed("two_layer_net.predict"))


def _sigmoid_output(e: Evidence) -> bool:
    for o in e.failed("two_layer_net.predict"):
        if close(o.actual, 1 / (1 + np.exp(-_output_layer(o))), rtol=1e-6):
            return True
    return False


def _accuracy_onehot_labels(e: Evidence) -> bool:
    for o in e.failed("two_layer_net.accuracy"):
        if "broadcast" in error_text(o):
            return True
        y = np.argmax(o.extra["predicted"], axis=1)
        t = o.extra["t"]
        with np.errstate(all="ignore"):
            try:
                variant = np.sum(y == t) / float(y.shape[0])
            except ValueError:
                continue
        if close(o.actual, variant):
            return True
    return False


def _init_scale_ignored(e: Evidence) -> bool:
    for o in e.failed("two_layer_net.init_scale"):
        stds, want = o.extra.get("stds", {}), o.extra.get("want")
        if stds and want and all(not abs(s - want) <= 0.1 * want for s in stds.values()):
            return True
    return False


def _backprop_batch_not_averaged(e: Evidence) -> bool:
    for o in e.failed("two_layer_net.backprop"):
        n = o.extra.get("batch", 1)
        if isinstance(o.actual, dict) and isinstance(o.expected, dict) and n > 1 and all(
                close(o.actual.get(k), n * np.asarray(v), rtol=1e-6) for k, v in o.expected.items()):
            return True
    return False


RULES = [
    DiagnosisRule("sse-missing-half", ("sum_squares_error",), N_(
        "Your result is exactly twice the expected one: the sum of squares error has a factor 0.5 in "
        "front of the sum (book 4.2.1)."), _sse_missing_half),
    DiagnosisRule("cee-missing-delta", ("cross_entropy_error",), N_(
        "Taking log of a probability that is exactly 0 gives -inf, and 0 * -inf gives nan: the book adds "
        "a tiny delta (1e-7) inside the log so the cross-entropy error stays finite (book 4.2.2)."),
                  _cee_missing_delta),
    DiagnosisRule("cee-batch-not-averaged", ("cross_entropy_error",), N_(
        "For a batch your result is the batch size times the expected one: the cross-entropy error of a "
        "mini-batch is the mean over its samples, so divide the sum by the batch size (book 4.2.4)."),
                  _cee_batch_not_averaged),
    DiagnosisRule("single-sample-not-reshaped", ("cross_entropy_error",), N_(
        "Batches work but a single sample (a 1-D y) does not: reshape a 1-D y and t to a batch of one "
        "before taking the batch size from y.shape[0] (book 4.2.4)."), _single_sample_not_reshaped),
    DiagnosisRule("cee-wrong-sign", ("cross_entropy_error",), N_(
        "Your result is the expected one with the opposite sign: the cross-entropy error is minus the sum "
        "of t * log(y), and log of a probability is negative, so the error comes out positive (book 4.2.2)."),
                  _cee_wrong_sign),
    DiagnosisRule("cee-onehot-indexed-as-labels", ("cross_entropy_error",), N_(
        "With one-hot labels, y[np.arange(batch_size), t] uses the rows of t as indices, which NumPy "
        "refuses: that indexing is for labels given as class numbers. Turn one-hot t into class numbers "
        "first with t.argmax(axis=1), or use -np.sum(t * np.log(y + 1e-7)) (book 4.2.4)."),
                  _cee_onehot_indexed),
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
    DiagnosisRule("net-params-not-restored", ("two_layer_net",), N_(
        "After net.numerical_gradient(x, t) the parameters are not what they were: the numerical gradient "
        "it uses moves each element by h and must put the original value back, or the network drifts "
        "while it measures its own gradient (book 4.4, 4.5.1)."), _net_params_not_restored),
    DiagnosisRule("net-gradient-never-reaches-loss", ("two_layer_net",), N_(
        "net.numerical_gradient returns only zeros although the loss does change with the parameters: "
        "the h added to each element never reaches the loss. Either the numerical gradient moves a copy "
        "of the array (x.copy(), np.array(x)) while the loss reads the network's own arrays, or h is so "
        "small that x + h == x. Change x[idx] in the array itself, and put it back afterwards (book 4.4)."),
                  _net_gradient_never_reaches_loss),
    DiagnosisRule("descent-assigns-step", ("gradient_descent",), N_(
        "Each step replaces x by lr * grad instead of moving x by it: write x -= lr * grad (or x = x - lr * "
        "grad), so that x keeps its position and steps against the gradient (book 4.4.1)."),
                  _descent_assigns_step),
    DiagnosisRule("gradient-ascent", ("gradient_descent",), N_(
        "x moves uphill: the function grows instead of shrinking. Gradient descent steps against "
        "the gradient, subtracting lr times the gradient (book 4.4.1)."), _gradient_ascent),
    DiagnosisRule("hard-coded", FUNCTION_EXERCISES + ("simple_net", "two_layer_net"), N_(
        "Right on the book's examples but wrong on new inputs, with answers that do not depend on "
        "the input: the code seems to return the book's printed numbers rather than compute them."),
                  _hard_coded),
    DiagnosisRule("softmax-overflow", ("simple_net", "two_layer_net"), N_(
        "With logits around 1000, np.exp overflows to inf and the loss becomes nan. Subtract the largest "
        "logit before np.exp in softmax: the result is the same and never overflows (book 3.5.2)."),
                  _softmax_overflow),
    DiagnosisRule("softmax-whole-batch", ("two_layer_net",), N_(
        "The output sums to 1 over the whole batch instead of over each row: for a batch, softmax "
        "normalises every sample (row) on its own, so take the max and the sum along the last axis "
        "with keepdims=True (book 3.5)."), _softmax_whole_batch),
    DiagnosisRule("sigmoid-output", ("two_layer_net",), N_(
        "The output layer uses sigmoid, so the outputs of a sample do not sum to 1: the hidden layer "
        "uses sigmoid, the output layer softmax (book 4.5.1)."), _sigmoid_output),
    DiagnosisRule("accuracy-onehot-labels", ("two_layer_net",), N_(
        "accuracy compares predicted classes with one-hot rows: with one-hot labels, turn t into class "
        "numbers with np.argmax(t, axis=1) too before comparing (book 4.5.1)."), _accuracy_onehot_labels),
    DiagnosisRule("init-scale-ignored", ("two_layer_net",), N_(
        "The initial weights do not follow weight_init_std: multiply the standard normal values by the "
        "weight_init_std argument, not by a fixed number (book 4.5.1)."), _init_scale_ignored),
    DiagnosisRule("backprop-batch-not-averaged", ("two_layer_net",), N_(
        "The backprop gradients are the batch size times too large: the loss is a mean over the batch, "
        "so its gradient dy = (y - t) is divided by the batch size (book 5.6.3)."),
                  _backprop_batch_not_averaged),
]


@hookimpl
def grader_diagnoses() -> list[DiagnosisRule]:
    return RULES + code_mistakes.RULES
