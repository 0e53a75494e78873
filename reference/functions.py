"""Activation and loss functions used throughout chapter 4.

These follow the book's ``common/functions.py`` (sections 3.2.4, 3.5.2 and
4.2): the sigmoid and its derivative, an overflow-safe softmax, and the two
loss functions of section 4.2 (sum of squares error and cross entropy error).
"""

from __future__ import annotations

import numpy as np

#: Small constant added inside ``log`` so that ``log(0)`` never yields ``-inf``
#: (section 4.2.2).
CEE_DELTA = 1e-7


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, applied element-wise (3.2.4)."""
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_grad(x: np.ndarray) -> np.ndarray:
    """Derivative of :func:`sigmoid` with respect to its input.

    ``d sigmoid(x) / dx = (1 - sigmoid(x)) * sigmoid(x)``; used by the
    backpropagation version of ``TwoLayerNet.gradient`` (4.5.1).
    """
    s = sigmoid(x)
    return (1.0 - s) * s


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax of a vector, or of every row of a 2-D batch (3.5.2).

    The maximum of each vector (row) is subtracted before exponentiating,
    which leaves the result unchanged but prevents ``exp`` from overflowing.
    The output has the same shape as ``x``.
    """
    x = np.asarray(x)
    if x.ndim == 2:
        shifted = x - np.max(x, axis=1, keepdims=True)
        e = np.exp(shifted)
        return e / np.sum(e, axis=1, keepdims=True)
    shifted = x - np.max(x)
    e = np.exp(shifted)
    return e / np.sum(e)


def sum_squares_error(y: np.ndarray, t: np.ndarray) -> float:
    """Sum of squares error ``0.5 * sum((y - t) ** 2)`` (section 4.2.1).

    ``y`` is the network output and ``t`` the one-hot teacher data; plain
    Python lists are accepted as well.
    """
    y = np.asarray(y, dtype=float)
    t = np.asarray(t, dtype=float)
    return 0.5 * np.sum((y - t) ** 2)


def cross_entropy_error(y: np.ndarray, t: np.ndarray) -> float:
    """Mini-batch cross entropy error, averaged over the batch (4.2.2, 4.2.4).

    A 1-D ``y`` is treated as a batch of one.  ``t`` may be one-hot (same
    size as ``y``), in which case it is first converted to class labels with
    ``argmax``, or already integer labels.  The loss is
    ``-sum(log(y[arange(N), t] + 1e-7)) / N``, as in the book's final
    ``common/functions.py``.
    """
    y = np.asarray(y, dtype=float)
    t = np.asarray(t)
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)

    # One-hot teacher data -> index of the correct label.
    if t.size == y.size:
        t = t.argmax(axis=1)

    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + CEE_DELTA)) / batch_size


def cross_entropy_error_onehot(y: np.ndarray, t: np.ndarray) -> float:
    """Cross entropy error for one-hot (or soft) targets (4.2.2, 4.2.4).

    Computes ``-sum(t * log(y + 1e-7)) / N`` with ``N`` the batch size; a
    1-D ``y`` is treated as a batch of one.  Unlike
    :func:`cross_entropy_error`, ``t`` must have the same shape as ``y``, but
    it need not be exactly one-hot.
    """
    y = np.asarray(y, dtype=float)
    t = np.asarray(t, dtype=float)
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)

    batch_size = y.shape[0]
    return -np.sum(t * np.log(y + CEE_DELTA)) / batch_size
