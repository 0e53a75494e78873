"""Chapter 4 of "Deep Learning from Scratch": learning from data.

How to fill it in
-----------------
Every function or method below whose body is ``raise NotImplementedError("TODO")``
is yours to write. Replace that line with your implementation; keep the names
and signatures exactly as they are, because the grader looks your work up by
name. The helpers from chapter 3 (sigmoid, sigmoid_grad, softmax) are already
written for you. Use only NumPy.

How to check it
---------------
Run ``python chapter4.py`` to print the book's examples next to the values
printed in the book, then run ``grade chapter4.py`` for the full check.
"""
import numpy as np


# ---------------------------------------------------------------------------
# Given: activation functions from chapter 3 (already done)
# ---------------------------------------------------------------------------

def sigmoid(x):
    """Sigmoid function 1 / (1 + exp(-x)), element-wise."""
    return 1 / (1 + np.exp(-x))


def sigmoid_grad(x):
    """Derivative of the sigmoid: sigmoid(x) * (1 - sigmoid(x))."""
    s = sigmoid(x)
    return (1.0 - s) * s


def softmax(a):
    """Softmax over the last axis; works for one sample (1-D) or a batch (2-D).

    The row maximum is subtracted first so that np.exp cannot overflow.
    """
    c = np.max(a, axis=-1, keepdims=True)
    exp_a = np.exp(a - c)
    return exp_a / np.sum(exp_a, axis=-1, keepdims=True)


# ---------------------------------------------------------------------------
# 4.2 Loss functions
# ---------------------------------------------------------------------------

def sum_squares_error(y, t):
    """Sum of squares error (book 4.2.1).

    y: network output, t: one-hot label (NumPy arrays of the same shape).
    Return E = 1/2 * sum_k (y_k - t_k)**2 as a scalar.
    """
    raise NotImplementedError("TODO")


def cross_entropy_error(y, t):
    """Cross-entropy error, batch version (book 4.2.2 and 4.2.4).

    y: network output of shape (N, C), or (C,) for a single sample.
    t: one-hot labels with the same shape as y.
    Return E = -1/N * sum_n sum_k t_nk * log(y_nk + delta) with delta = 1e-7,
    i.e. the mean over the batch. A 1-D y counts as a batch of one sample.
    """
    raise NotImplementedError("TODO")

# Also graded: integer labels (book 4.2.4), where t holds class indices of shape (N,)
# instead of one-hot rows. Handle them here too (t.size == y.size means one-hot), or
# write them as a second function cross_entropy_error_new_label(y, t): each case is
# credited to whichever of your functions gets it right.


# ---------------------------------------------------------------------------
# 4.3 Numerical differentiation
# ---------------------------------------------------------------------------

def numerical_diff(f, x):
    """Numerical derivative of a one-variable function f at x (book 4.3.1).

    Use the central difference (f(x + h) - f(x - h)) / (2h) with h = 1e-4.
    Return the derivative as a number.
    """
    raise NotImplementedError("TODO")


# ---------------------------------------------------------------------------
# 4.4 Gradient
# ---------------------------------------------------------------------------

def numerical_gradient(f, x):
    """Gradient of f at x by central differences, h = 1e-4 (book 4.4).

    x is a NumPy float array of any shape (1-D for function_2, 2-D for the
    weights of a network); f(x) returns a scalar. Return an array shaped like
    x holding the partial derivatives. You may change x temporarily, but every
    element must hold its original value again when you return.
    """
    raise NotImplementedError("TODO")


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    """Gradient descent (book 4.4.1).

    Starting from init_x, repeat step_num times: x <- x - lr * grad f(x),
    using numerical_gradient. Return the final x (returning the pair
    (x, x_history) as in the book's gradient_method.py is accepted too).
    """
    raise NotImplementedError("TODO")


# ---------------------------------------------------------------------------
# 4.4.2 Gradient of a neural network
# ---------------------------------------------------------------------------

class simpleNet:
    """A one-layer network with a 2x3 weight matrix (book 4.4.2)."""

    def __init__(self):
        """Set self.W to a (2, 3) array drawn from a Gaussian (np.random.randn)."""
        raise NotImplementedError("TODO")

    def predict(self, x):
        """Return the scores x . W (no activation)."""
        raise NotImplementedError("TODO")

    def loss(self, x, t):
        """Return cross_entropy_error(softmax(predict(x)), t)."""
        raise NotImplementedError("TODO")


# ---------------------------------------------------------------------------
# 4.5 Implementing the learning algorithm
# ---------------------------------------------------------------------------

class TwoLayerNet:
    """Two-layer network: Affine -> sigmoid -> Affine -> softmax (book 4.5.1)."""

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        """Create self.params, a dict with
        'W1': weight_init_std * Gaussian, shape (input_size, hidden_size)
        'b1': zeros, shape (hidden_size,)
        'W2': weight_init_std * Gaussian, shape (hidden_size, output_size)
        'b2': zeros, shape (output_size,)
        """
        raise NotImplementedError("TODO")

    def predict(self, x):
        """Forward pass for a batch x of shape (N, input_size).

        Return the softmax output, shape (N, output_size).
        """
        raise NotImplementedError("TODO")

    def loss(self, x, t):
        """Return the cross-entropy error of predict(x) against one-hot t."""
        raise NotImplementedError("TODO")

    def accuracy(self, x, t):
        """Return the fraction (0.0 to 1.0) of rows whose predicted class
        matches the class of the one-hot label t."""
        raise NotImplementedError("TODO")

    def numerical_gradient(self, x, t):
        """Return a dict with keys 'W1', 'b1', 'W2', 'b2' holding the gradient
        of loss(x, t) with respect to each parameter, computed with the
        module-level numerical_gradient function."""
        raise NotImplementedError("TODO")

    # Optional (chapter 5, backpropagation): you may add a method
    #     def gradient(self, x, t):
    # returning the same dict as numerical_gradient, computed by backprop.


# ---------------------------------------------------------------------------
# The book's examples: run `python chapter4.py` and compare with the book.
# ---------------------------------------------------------------------------

if __name__ == "__main__":
    def show(title, compute, book):
        try:
            value = compute()
        except NotImplementedError:
            value = "(TODO: not written yet)"
        print(title)
        print("    yours:", value)
        print("    book: ", book)

    def function_1(x):
        return 0.01 * x**2 + 0.1 * x

    def function_2(x):
        return x[0]**2 + x[1]**2

    # label "2" as one-hot
    t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    # example 1: "2" is the most probable
    y1 = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    # example 2: "7" is the most probable
    y2 = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])

    show("sum_squares_error, example 1", lambda: sum_squares_error(y1, t), 0.0975)
    show("sum_squares_error, example 2", lambda: sum_squares_error(y2, t), 0.5975)
    show("cross_entropy_error, example 1", lambda: cross_entropy_error(y1, t), 0.510825457099338)
    show("cross_entropy_error, example 2", lambda: cross_entropy_error(y2, t), 2.302584092994546)
    show("numerical_diff(function_1, 5)", lambda: numerical_diff(function_1, 5), 0.1999999999990898)
    show("numerical_diff(function_1, 10)", lambda: numerical_diff(function_1, 10), 0.2999999999986347)
    show("numerical_gradient(function_2, [3.0, 4.0])",
         lambda: numerical_gradient(function_2, np.array([3.0, 4.0])), "[6. 8.]")
    show("gradient_descent(function_2, [-3.0, 4.0], lr=0.1, step_num=100)",
         lambda: gradient_descent(function_2, np.array([-3.0, 4.0]), lr=0.1, step_num=100),
         "[-6.11110793e-10  8.14814391e-10]")

    # simpleNet with the weights printed in the book (4.4.2)
    def simple_net_example():
        net = simpleNet()
        net.W = np.array([[0.47355232, 0.9977393, 0.84668094],
                          [0.85557411, 0.03563661, 0.69422093]])
        x = np.array([0.6, 0.9])
        return net.predict(x), net.loss(x, np.array([0, 0, 1]))

    # (the book prints W rounded to 8 digits, so the loss agrees to about 6)
    show("simpleNet predict and loss", simple_net_example,
         "[1.05414809 0.63071653 1.1328074 ], 0.92806853663411326")

    def two_layer_net_example():
        net = TwoLayerNet(input_size=784, hidden_size=100, output_size=10)
        shapes = {key: net.params[key].shape for key in ("W1", "b1", "W2", "b2")}
        return shapes, net.predict(np.random.rand(100, 784)).shape

    show("TwoLayerNet parameter shapes and predict shape", two_layer_net_example,
         "{'W1': (784, 100), 'b1': (100,), 'W2': (100, 10), 'b2': (10,)}, (100, 10)")
