"""Numerical differentiation and gradient descent (sections 4.3 and 4.4).

Every derivative here is estimated with the central difference
``(f(x + h) - f(x - h)) / (2 * h)`` with ``h = 1e-4``, as the book
recommends: a much smaller ``h`` runs into rounding error, and the forward
difference ``(f(x + h) - f(x)) / h`` is less accurate.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

#: Step used by every central difference in this module (section 4.3.1).
H = 1e-4


def numerical_diff(f: Callable[[float], float], x: float) -> float:
    """Derivative of a one-variable function ``f`` at ``x`` (section 4.3.1).

    Uses the central difference ``(f(x + h) - f(x - h)) / (2h)``,
    ``h = 1e-4``.
    """
    h = H
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Gradient of ``f`` at ``x`` by central differences (section 4.4).

    ``x`` may have any number of dimensions; each element is nudged by
    ``+h`` and ``-h`` in turn (``h = 1e-4``) and restored afterwards, so on
    return ``x`` holds exactly its original values.  ``f`` is called with the
    (temporarily modified) array ``x`` itself, which is what lets
    ``lambda W: net.loss(x, t)`` see the perturbation through ``net.W``.
    The result has the same shape as ``x``.
    """
    h = H
    grad = np.zeros_like(x, dtype=float)

    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        idx = it.multi_index
        original = x[idx]

        x[idx] = original + h
        fxh1 = f(x)
        x[idx] = original - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)

        x[idx] = original  # put the value back
        it.iternext()

    return grad


def gradient_descent(
    f: Callable[[np.ndarray], float],
    init_x: np.ndarray,
    lr: float = 0.01,
    step_num: int = 100,
) -> np.ndarray:
    """Minimise ``f`` by plain gradient descent (section 4.4.1).

    Repeats ``x -= lr * numerical_gradient(f, x)`` ``step_num`` times,
    starting from ``init_x``, and returns ``x``.  As in the book, ``x`` is
    ``init_x`` itself (no copy), so a NumPy float array passed in is updated
    in place.
    """
    x = init_x
    for _ in range(step_num):
        grad = numerical_gradient(f, x)
        x -= lr * grad
    return x
