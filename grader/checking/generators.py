"""Seeded input generators for random cases, registered through the ``grader_generators`` hook.

Each takes a ``numpy.random.Generator`` (seeded per case by the spec) and keyword
parameters from the spec, and returns the argument tuple of one call. Functions
travel to the worker as source text (:class:`Fn`), with their numbers written in
full (``repr``), so the student's code and the reference see the same function.
"""
from __future__ import annotations

import numpy as np

from ..hookspecs import hookimpl
from ..worker.wire import Fn


def _softmax_rows(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def probabilities(rng: np.random.Generator, batch: int = 0, classes: int = 10, labels: str = "onehot",
                  zero_at_target: bool = False) -> tuple:
    """A network output ``y`` (rows of probabilities) and its answer ``t``.

    ``batch = 0`` gives one sample as 1-D arrays; ``labels`` is ``onehot`` or ``int``;
    ``zero_at_target`` puts an exact 0 at the correct class, where log would give -inf.
    """
    rows = max(batch, 1)
    y = _softmax_rows(rng.normal(scale=2.0, size=(rows, classes)))
    target = rng.integers(0, classes, size=rows)
    if zero_at_target:
        y[np.arange(rows), target] = 0.0
        y /= y.sum(axis=1, keepdims=True)
    t = np.eye(classes)[target] if labels == "onehot" else target.astype(np.int64)
    if batch == 0:
        return (y[0], t[0] if labels == "onehot" else np.int64(target[0]))
    return (y, t)


def polynomial_point(rng: np.random.Generator) -> tuple:
    """A cubic with random coefficients and a point where its derivative is not tiny."""
    a, b, c = (float(v) for v in np.round(rng.uniform(-2, 2, size=3), 3))
    x = float(np.round(rng.uniform(0.5, 3.0), 3))
    return (Fn(f"lambda x: {a!r}*x**3 + {b!r}*x**2 + {c!r}*x"), x)


def smooth_point(rng: np.random.Generator) -> tuple:
    """A transcendental function (sin, exp) at a random point."""
    a = float(np.round(rng.uniform(0.5, 2.0), 3))
    x = float(np.round(rng.uniform(-1.5, 1.5), 3))
    return (Fn(f"lambda x: np.sin({a!r}*x) + np.exp(x / {a!r})"), x)


def quadratic_form(rng: np.random.Generator, shape: list[int] | tuple[int, ...] = (3,)) -> tuple:
    """``f(x) = sum(C * x**2 + D * x)`` and a point ``x`` of the given shape."""
    shape = tuple(shape)
    c = np.round(rng.uniform(0.5, 2.0, size=shape), 3)
    d = np.round(rng.uniform(-1.0, 1.0, size=shape), 3)
    x = np.round(rng.uniform(-3.0, 3.0, size=shape), 3)
    return (Fn("lambda x: np.sum(C * x**2 + D * x)", (("C", c), ("D", d))), x)


def softmax_loss_weights(rng: np.random.Generator, inputs: int = 2, classes: int = 3) -> tuple:
    """simpleNet's loss as a function of its weights W (2-D), at a random W."""
    x = np.round(rng.normal(size=inputs), 3)
    t = np.eye(classes)[rng.integers(0, classes)]
    w = np.round(rng.normal(size=(inputs, classes)), 3)
    source = ("lambda W: -np.sum(T * np.log(np.exp(X @ W - np.max(X @ W)) / "
              "np.sum(np.exp(X @ W - np.max(X @ W))) + 1e-7))")
    return (Fn(source, (("X", x), ("T", t))), w)


def descent_problem(rng: np.random.Generator, lr: float = 0.1, step_num: int = 50) -> tuple:
    """A shifted quadratic bowl, a random start, and the learning rate and step count."""
    m = np.round(rng.uniform(-2, 2, size=2), 3)
    c = np.round(rng.uniform(0.5, 1.5, size=2), 3)
    start = np.round(rng.uniform(-4, 4, size=2), 3)
    return (Fn("lambda x: np.sum(C * (x - M)**2)", (("C", c), ("M", m))), start, float(lr), int(step_num))


@hookimpl
def grader_generators() -> dict:
    return {"probabilities": probabilities, "polynomial_point": polynomial_point, "smooth_point": smooth_point,
            "quadratic_form": quadratic_form, "softmax_loss_weights": softmax_loss_weights,
            "descent_problem": descent_problem}
