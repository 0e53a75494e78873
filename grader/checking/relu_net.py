"""The chapter-5 network as the grader computes it: chapter 4's TwoLayerNet with ReLU in the hidden layer.

Students who read ahead hand in the net of chapter 5 (Affine, Relu, Affine, SoftmaxWithLoss)
for chapter 4's exercise. Its predictions are not the sigmoid net's, but its machinery can
still be right: its numerical gradient is the gradient of its own loss, its backprop agrees
with it, and training with it lowers that loss. The checks judge that machinery against this
twin, computed here from the parameters the grader chose, never against what the student's
own loss says.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from grader._reference.functions import cross_entropy_error, softmax
from grader._reference.gradients import numerical_gradient

PARAMS = ("W1", "b1", "W2", "b2")


class ReluTwoLayerNet:
    """``input -> affine(W1, b1) -> ReLU -> affine(W2, b2) -> softmax``, with the reference's loss."""

    def __init__(self, params: dict[str, np.ndarray]) -> None:
        self.params = {key: np.array(params[key], dtype=float) for key in PARAMS}

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a1 = np.dot(x, self.params["W1"]) + self.params["b1"]
        z1 = np.maximum(a1, 0.0)
        return a1, z1, softmax(np.dot(z1, self.params["W2"]) + self.params["b2"])

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self._forward(x)[2]

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        return cross_entropy_error(self.predict(x), t)

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        return {key: numerical_gradient(lambda _w: self.loss(x, t), self.params[key]) for key in PARAMS}

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Backprop as chapter 5's layers compute it (one-hot t): Relu passes the gradient where a1 > 0."""
        a1, z1, y = self._forward(x)
        dy = (y - t) / x.shape[0]
        da1 = np.dot(dy, self.params["W2"].T) * (a1 > 0)
        return {"W1": np.dot(x.T, da1), "b1": np.sum(da1, axis=0), "W2": np.dot(z1.T, dy), "b2": np.sum(dy, axis=0)}


def relu_twin(params: dict[str, Any]) -> ReluTwoLayerNet:
    return ReluTwoLayerNet(params)
