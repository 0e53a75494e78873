"""The loss functions' misconceptions (book 4.2): the sum of squares error and the cross-entropy error.

Each rule recomputes a known wrong version of the loss on the inputs the check used (no
0.5, no delta, no minus sign, y and t swapped, ``t *`` in front of the picked
probabilities) and compares it with what the student's function returned; a rule that
reads an error checks that the error is the one that version raises.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from .model import DiagnosisRule, Evidence, close, non_finite
from ..i18n import N_

DELTA = 1e-7


def _sse_missing_half(e: Evidence) -> bool:
    return any(close(o.actual, 2 * np.asarray(o.expected, dtype=float)) for o in e.failed("cases"))


def _as_batch(y: Any, t: Any) -> tuple[np.ndarray, np.ndarray]:
    """y and t as the book's code sees them after ``if y.ndim == 1: reshape to a batch of one``."""
    y, t = np.asarray(y, dtype=float), np.asarray(t)
    if y.ndim == 1:
        return y.reshape(1, -1), t.reshape(1, -1)
    return y, t


def _is_one_hot(y: Any, t: Any) -> bool:
    return np.shape(y) == np.shape(t) and np.ndim(t) >= 1


def _class_numbers(y2: np.ndarray, t2: np.ndarray) -> np.ndarray:
    """The labels as class numbers, whichever way they were given."""
    return t2.argmax(axis=1) if t2.size == y2.size else t2.reshape(-1).astype(int)


def _cee_without_delta(y: np.ndarray, t: np.ndarray) -> float:
    y2, t2 = _as_batch(y, t)
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
    """The answer with its sign flipped, with the delta or without it (a minus and a delta both
    forgotten: the sign is still the mistake the finite answers show)."""
    for o in e.failed("cases"):
        expected = np.asarray(o.expected, dtype=float)
        if not float(np.sum(np.abs(expected))) > 0 or non_finite(o.actual):
            continue
        if close(o.actual, -expected, rtol=1e-7):
            return True
        without = _cee_without_delta(np.asarray(o.args[0]), o.args[1])
        if np.isfinite(without) and without != 0 and close(o.actual, -without, rtol=1e-7):
            return True
    return False


def _cee_onehot_indexed(e: Evidence) -> bool:
    """``y[np.arange(n), t]`` with one-hot ``t``: NumPy refuses float indices, or picks the wrong entries."""
    onehot = [o for o in e.failed("cases") if len(o.args) == 2 and _is_one_hot(o.args[0], o.args[1])]
    for o in onehot:
        if o.error is not None and o.error.type == "IndexError" and (
                "integer" in o.error.message or "shape mismatch" in o.error.message):
            return True
    return False


def _cee_swapped(e: Evidence) -> bool:
    """``-np.sum(y * np.log(t + delta))``: the log taken of the labels, weighted by the outputs."""
    for o in e.failed("cases"):
        if len(o.args) != 2 or not _is_one_hot(*o.args):
            continue
        y2, t2 = _as_batch(*o.args)
        with np.errstate(all="ignore"):
            swapped = float(-np.sum(y2 * np.log(t2 + DELTA)) / y2.shape[0])
        if np.isfinite(swapped) and not close(swapped, o.expected, rtol=1e-7) and close(o.actual, swapped, rtol=1e-7):
            return True
    return False


BROADCAST = re.compile(r"broadcast together with shapes \(([\d,]*)\) \(([\d,]*)\)")


def _shape(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part)


def _cee_one_hot_only(e: Evidence) -> bool:
    """``t * np.log(y)`` given class numbers: t (a number per sample) cannot multiply the rows of y,
    or, when the sizes happen to fit, multiplies them column by column."""
    for o in e.failed("cases"):
        if len(o.args) != 2 or _is_one_hot(*o.args):
            continue
        y, t = np.asarray(o.args[0], dtype=float), np.asarray(o.args[1])
        if o.error is not None and o.error.type == "ValueError":
            match = BROADCAST.search(o.error.message)
            # t first, then y: the order of `t * np.log(y)` (y * np.log(t) is the swapped mistake).
            if match and _shape(match.group(1)) == t.shape and _shape(match.group(2)) == y.shape:
                return True
            continue
        y2 = y.reshape(1, -1) if y.ndim == 1 else y
        with np.errstate(all="ignore"):
            try:
                product = float(-np.sum(t * np.log(y2 + DELTA)) / y2.shape[0])
            except ValueError:
                continue
        if np.isfinite(product) and close(o.actual, product, rtol=1e-7):
            return True
    return False


def _cee_label_times_t(e: Evidence) -> bool:
    """``-np.sum(t * np.log(y[np.arange(n), t] + delta))``: the picked probabilities weighted by the class numbers."""
    for o in e.failed("cases"):
        if len(o.args) != 2:
            continue
        y2, t2 = _as_batch(*o.args)
        labels = _class_numbers(y2, t2)
        if not np.any(labels):  # every label class 0: the formula gives 0 whatever y is, as a constant 0 does
            continue
        picked = y2[np.arange(y2.shape[0]), labels]
        # The same probability picked for every sample (an exact 0 at each right class): weighting
        # them by class numbers only scales the sum, as leaving out "/ batch_size" does.
        if np.all(picked == picked[0]):
            continue
        with np.errstate(all="ignore"):
            variants = [float(-np.sum(labels * np.log(picked + d)) / y2.shape[0]) for d in (DELTA, 0.0)]
        if any(np.isfinite(v) and not close(v, o.expected, rtol=1e-7) and close(o.actual, v, rtol=1e-7)
               for v in variants):
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
    DiagnosisRule("cee-arguments-swapped", ("cross_entropy_error",), N_(
        "Your result is what -np.sum(y * np.log(t + delta)) gives: y and t are swapped. The log is taken of the "
        "network's output y, and the label t picks which log counts: -np.sum(t * np.log(y + delta)). With "
        "them swapped, the log of the 0s in t gives log(delta) = -16.1 for every wrong class (book 4.2.2)."),
                  _cee_swapped),
    DiagnosisRule("cee-one-hot-only", ("cross_entropy_error",), N_(
        "With labels given as class numbers (t = [2, 7, ...], one number per sample), t * np.log(y) "
        "multiplies each row of log-probabilities by a class number, or cannot be computed at all: that "
        "formula is for one-hot t. For class numbers, pick each sample's probability of its class with "
        "y[np.arange(batch_size), t]; t.size == y.size tells the two forms apart (book 4.2.4)."),
                  _cee_one_hot_only),
    DiagnosisRule("cee-label-times-t", ("cross_entropy_error",), N_(
        "Your result is -np.sum(t * np.log(y[np.arange(batch_size), t] + 1e-7)): y[np.arange(batch_size), "
        "t] already picks each sample's probability of its right class, so the t * in front weighs every "
        "sample by its class number (0 for class 0, 7 for class 7). Leave it out: "
        "-np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size (book 4.2.4)."), _cee_label_times_t),
]
