"""The answer key of the chapter-3 exercises, as the book writes them.

The grader imports these in its own (trusted) process, by the import path in each
spec's ``reference`` field; the sandboxed worker that runs a student's code may not
read this file.
"""
from __future__ import annotations

import numpy as np


def step_function(x):
    """The step function h(x): 1 where x > 0, else 0, element-wise, as integers (book 3.2.2).

    The book writes ``np.array(x > 0, dtype=np.int)``; ``np.int`` is gone from NumPy,
    so the dtype is spelled ``np.int64`` here.
    """
    return np.array(x > 0, dtype=np.int64)


def sigmoid(x):
    """The sigmoid 1 / (1 + exp(-x)), element-wise (book 3.2.4)."""
    return 1 / (1 + np.exp(-x))


def softmax(a):
    """Softmax of one sample (1-D) or of each row of a batch (2-D) (book 3.5.1, 3.5.2).

    The largest value of each row is subtracted before ``np.exp``: the result is the
    same, and ``np.exp`` never overflows.
    """
    a = np.asarray(a, dtype=float)
    c = np.max(a, axis=-1, keepdims=True)
    exp_a = np.exp(a - c)
    return exp_a / np.sum(exp_a, axis=-1, keepdims=True)
