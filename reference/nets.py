"""The two networks of chapter 4: ``simpleNet`` (4.4.2) and ``TwoLayerNet`` (4.5.1)."""

from __future__ import annotations

import numpy as np

from .functions import cross_entropy_error, sigmoid, sigmoid_grad, softmax
from .gradients import numerical_gradient


class SimpleNet:
    """The book's ``simpleNet`` (section 4.4.2).

    A single 2x3 weight matrix ``W`` (standard normal), no bias; the loss is
    the cross entropy error of the softmax of ``x @ W``.
    """

    def __init__(self) -> None:
        self.W = np.random.randn(2, 3)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Scores ``x @ W`` (before softmax)."""
        return np.dot(x, self.W)

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        """Cross entropy error of ``softmax(predict(x))`` against ``t``."""
        z = self.predict(x)
        y = softmax(z)
        return cross_entropy_error(y, t)


class TwoLayerNet:
    """The book's two-layer network (section 4.5.1).

    ``input -> affine(W1, b1) -> sigmoid -> affine(W2, b2) -> softmax``.
    Weights are drawn as ``weight_init_std * randn(...)`` and biases start
    at zero; all four live in the ``params`` dict.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float = 0.01,
    ) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.params["W1"] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params["b2"] = np.zeros(output_size)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (softmax output) for each row of ``x``."""
        W1, W2 = self.params["W1"], self.params["W2"]
        b1, b2 = self.params["b1"], self.params["b2"]

        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        return softmax(a2)

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        """Cross entropy error of ``predict(x)`` against teacher data ``t``."""
        y = self.predict(x)
        return cross_entropy_error(y, t)

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        """Fraction of rows whose predicted class equals the correct class.

        ``t`` may be one-hot (2-D) or a 1-D array of labels.
        """
        y = self.predict(x)
        y = np.argmax(y, axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients of the loss for W1, b1, W2, b2 by numerical differentiation."""

        def loss_W(W: np.ndarray) -> float:
            return self.loss(x, t)

        grads: dict[str, np.ndarray] = {}
        for key in ("W1", "b1", "W2", "b2"):
            grads[key] = numerical_gradient(loss_W, self.params[key])
        return grads

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients of the loss for W1, b1, W2, b2 by backpropagation.

        The fast version the book supplies alongside section 4.5.1 (explained
        in chapter 5); ``t`` must be one-hot.
        """
        W1, W2 = self.params["W1"], self.params["W2"]
        b1, b2 = self.params["b1"], self.params["b2"]
        grads: dict[str, np.ndarray] = {}

        batch_num = x.shape[0]

        # forward
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        y = softmax(a2)

        # backward
        dy = (y - t) / batch_num
        grads["W2"] = np.dot(z1.T, dy)
        grads["b2"] = np.sum(dy, axis=0)

        da1 = np.dot(dy, W2.T)
        dz1 = sigmoid_grad(a1) * da1
        grads["W1"] = np.dot(x.T, dz1)
        grads["b1"] = np.sum(dz1, axis=0)

        return grads
