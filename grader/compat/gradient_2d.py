"""ch04/gradient_2d.py: the 2-D numerical gradient and the book's example function."""
import numpy as np

from common.gradient import numerical_gradient_2d as numerical_gradient  # noqa: F401


def function_2(x):
    if x.ndim == 1:
        return np.sum(x ** 2)
    return np.sum(x ** 2, axis=1)


def tangent_line(f, x):
    d = numerical_gradient(f, x)
    y = f(x) - d * x
    return lambda t: d * t + y
