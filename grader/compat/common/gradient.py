"""common/gradient.py: numerical gradients by central differences, for arrays of any shape."""
import numpy as np


def numerical_gradient_1d(f, x):
    return numerical_gradient(f, x)


def numerical_gradient_2d(f, X):
    if X.ndim == 1:
        return numerical_gradient(f, X)
    grad = np.zeros_like(X)
    for row, x in enumerate(X):  # the book's row-by-row version: f sees one row at a time
        grad[row] = numerical_gradient(f, x)
    return grad


def numerical_gradient(f, x):
    h = 1e-4
    grad = np.zeros_like(x)
    # Element by element in the array's order; a C-ordered array through a flat view of itself
    # (the same elements, changed in the same order, a few microseconds less each).
    flat = x.reshape(-1) if x.flags.c_contiguous and grad.flags.c_contiguous else None
    if flat is not None and np.shares_memory(flat, x):
        target, out, places = flat, grad.reshape(-1), range(flat.size)
    else:
        target, out, places = x, grad, np.ndindex(x.shape)
    for idx in places:
        saved = target[idx]
        target[idx] = saved + h
        plus = f(x)
        target[idx] = saved - h
        minus = f(x)
        out[idx] = (plus - minus) / (2 * h)
        target[idx] = saved
    return grad
