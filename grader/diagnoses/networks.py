"""The networks' misconceptions: simpleNet (4.4.2) and TwoLayerNet (4.5).

Most rules recompute a known wrong version of the network on the parameters and inputs the
check used. A shape error is read with the sizes of the net the check built, so "the
second layer was given x" is said only when the error's shapes are x's and W2's; a rule
that names a line of code (``x`` handed to every layer) finds it in the graded code first.
"""
from __future__ import annotations

import ast
import re
from typing import Any

import numpy as np

from .model import (DiagnosisRule, Evidence, Observation, close, error_text, non_finite,
                    normalised_over_whole_batch, syntax_trees)
from ..i18n import N_

NET = "two_layer_net"


def _net_params_not_restored(e: Evidence) -> bool:
    return bool(e.failed("two_layer_net.params_unchanged"))


def _net_gradient_never_reaches_loss(e: Evidence) -> bool:
    """All-zero gradients while the loss does change with the parameters (the check moved one)."""
    for o in e.failed("two_layer_net.numerical_gradient"):
        if o.extra.get("loss_reads_params") and isinstance(o.actual, dict) and o.actual and all(
                isinstance(v, np.ndarray) and v.size and not np.any(v) for v in o.actual.values()):
            return True
    return False


def _softmax_overflow(e: Evidence) -> bool:
    return any(o.extra.get("large_logits") and (non_finite(o.actual) or "overflow" in error_text(o))
               for o in e.failed())


def _hidden(o: Observation, activation) -> np.ndarray:
    p, x = o.extra["params"], o.extra["x"]
    return activation(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


def _softmax(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_whole_batch(e: Evidence) -> bool:
    return any(normalised_over_whole_batch(o.actual) for o in e.failed("two_layer_net.predict"))


def _sigmoid_output(e: Evidence) -> bool:
    for o in e.failed("two_layer_net.predict"):
        if close(o.actual, _sigmoid(_hidden(o, _sigmoid)), rtol=1e-6):
            return True
    return False


def _relu_net(e: Evidence) -> bool:
    """ReLU in the hidden layer: the predictions are the ReLU net's, or the gradients were."""
    if any(o.extra.get("relu") for o in e.passed()):
        return True
    with np.errstate(all="ignore"):
        return any(close(o.actual, _softmax(_hidden(o, lambda a: np.maximum(a, 0.0))), rtol=1e-6)
                   for o in e.failed("two_layer_net.predict") if "params" in o.extra)


def _accuracy_onehot_labels(e: Evidence) -> bool:
    for o in e.failed("two_layer_net.accuracy"):
        if "broadcast" in error_text(o):
            return True
        y = np.argmax(o.extra["predicted"], axis=1)
        t = o.extra["t"]
        with np.errstate(all="ignore"):
            try:
                variant = np.sum(y == t) / float(y.shape[0])
            except ValueError:
                continue
        if close(o.actual, variant):
            return True
    return False


def _init_scale_ignored(e: Evidence) -> bool:
    for o in e.failed("two_layer_net.init_scale"):
        stds, want = o.extra.get("stds", {}), o.extra.get("want")
        if stds and want and all(not abs(s - want) <= 0.1 * want for s in stds.values()):
            return True
    return False


def _missing_parameters(e: Evidence) -> Observation | None:
    return next((o for o in e.failed() if o.extra.get("missing_parameters")), None)


def _init_missing_parameter(e: Evidence) -> bool:
    return _missing_parameters(e) is not None


def _init_missing_parameter_details(e: Evidence) -> dict[str, Any]:
    o = _missing_parameters(e)
    return {"name": ", ".join(f"`{n}`" for n in o.extra["missing_parameters"]), "cls": o.extra["class_name"],
            "call": o.extra["construction"]}


def _backprop_batch_not_averaged(e: Evidence) -> bool:
    for o in e.failed("two_layer_net.backprop"):
        n = o.extra.get("batch", 1)
        if isinstance(o.actual, dict) and isinstance(o.expected, dict) and n > 1 and all(
                close(o.actual.get(k), n * np.asarray(v), rtol=1e-6) for k, v in o.expected.items()):
            return True
    return False


# ---- an input-shaped array where the hidden layer's output belongs ------------------------

NOT_ALIGNED = re.compile(r"shapes \((\d+),(\d+)\) and \((\d+),(\d+)\) not aligned")
MATMUL = re.compile(r"size (\d+) is different from (\d+)")


def _input_meets_w2(o: Observation) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """(the input's shape, W2's shape) when ``o`` failed multiplying an array shaped like x by W2."""
    sizes = o.extra.get("sizes")
    if o.error is None or o.error.type != "ValueError" or not sizes or len(sizes) < 3:
        return None
    inputs, hidden, outputs = (int(s) for s in sizes[:3])
    if inputs == hidden:
        return None
    match = NOT_ALIGNED.search(o.error.message)
    if match:
        n, i, h, k = (int(g) for g in match.groups())
        return ((n, i), (h, k)) if i == inputs and (h, k) == (hidden, outputs) else None
    match = MATMUL.search(o.error.message)  # x @ W2: "size <W2's rows> is different from <x's columns>"
    if match and "matmul" in o.error.message and (int(match.group(1)), int(match.group(2))) == (hidden, inputs):
        return (-1, inputs), (hidden, outputs)
    return None


def _unchained_layer_calls(e: Evidence) -> list[tuple[str, str, str]]:
    """(the call, its argument, the loop's variable) for every ``for layer in ...: out = layer.forward(x)``
    in the graded code whose argument the loop never reassigns: each layer then gets the same array."""
    found = []
    for tree in syntax_trees(e):
        for loop in (n for n in ast.walk(tree) if isinstance(n, ast.For) and isinstance(n.target, ast.Name)):
            assigned = {t.id for statement in loop.body for node in ast.walk(statement)
                        for t in _targets(node) if isinstance(t, ast.Name)}
            for node in (n for statement in loop.body for n in ast.walk(statement)):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                        node.func.attr == "forward" and isinstance(node.func.value, ast.Name) and \
                        node.func.value.id == loop.target.id and node.args and isinstance(node.args[0], ast.Name) \
                        and node.args[0].id not in assigned and node.args[0].id != loop.target.id:
                    found.append((ast.unparse(node), node.args[0].id, loop.target.id))
    return found


def _targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.Assign):
        return [n for t in node.targets for n in ast.walk(t)]
    if isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr)):
        return [node.target]
    return []


def _layers_not_chained(e: Evidence) -> bool:
    return bool(_unchained_layer_calls(e)) and (
        any(_input_meets_w2(o) for o in e.failed()) or bool(e.failed("two_layer_net.predict")))


def _layers_not_chained_details(e: Evidence) -> dict[str, Any]:
    call, name, layer = _unchained_layer_calls(e)[0]
    return {"call": call, "name": name, "layer": layer}


def _second_layer_fed_input(e: Evidence) -> bool:
    return not _unchained_layer_calls(e) and any(_input_meets_w2(o) for o in e.failed())


def _second_layer_fed_input_details(e: Evidence) -> dict[str, Any]:
    x, w2 = next(shapes for o in e.failed() if (shapes := _input_meets_w2(o)))
    return {"x": f"(N, {x[1]})" if x[0] < 0 else str(x), "w2": str(w2)}


RULES = [
    DiagnosisRule("net-params-not-restored", (NET,), N_(
        "After net.numerical_gradient(x, t) the parameters are not what they were: the numerical gradient "
        "it uses moves each element by h and must put the original value back, or the network drifts "
        "while it measures its own gradient (book 4.4, 4.5.1)."), _net_params_not_restored),
    DiagnosisRule("net-gradient-never-reaches-loss", (NET,), N_(
        "net.numerical_gradient returns only zeros although the loss does change with the parameters: "
        "the h added to each element never reaches the loss. Either the numerical gradient moves a copy "
        "of the array (x.copy(), np.array(x)) while the loss reads the network's own arrays, or h is so "
        "small that x + h == x. Change x[idx] in the array itself, and put it back afterwards (book 4.4)."),
                  _net_gradient_never_reaches_loss),
    DiagnosisRule("softmax-overflow", ("simple_net", NET), N_(
        "With logits around 1000, np.exp overflows to inf and the loss becomes nan. Subtract the largest "
        "logit before np.exp in softmax: the result is the same and never overflows (book 3.5.2)."),
                  _softmax_overflow),
    DiagnosisRule("softmax-whole-batch", (NET,), N_(
        "The output sums to 1 over the whole batch instead of over each row: for a batch, softmax "
        "normalises every sample (row) on its own, so take the max and the sum along the last axis "
        "with keepdims=True (book 3.5)."), _softmax_whole_batch),
    DiagnosisRule("sigmoid-output", (NET,), N_(
        "The output layer uses sigmoid, so the outputs of a sample do not sum to 1: the hidden layer "
        "uses sigmoid, the output layer softmax (book 4.5.1)."), _sigmoid_output),
    DiagnosisRule("accuracy-onehot-labels", (NET,), N_(
        "accuracy compares predicted classes with one-hot rows: with one-hot labels, turn t into class "
        "numbers with np.argmax(t, axis=1) too before comparing (book 4.5.1)."), _accuracy_onehot_labels),
    DiagnosisRule("init-scale-ignored", (NET,), N_(
        "The initial weights do not follow weight_init_std: multiply the standard normal values by the "
        "weight_init_std argument, not by a fixed number (book 4.5.1)."), _init_scale_ignored),
    DiagnosisRule("init-missing-parameter", (NET,), N_(
        "{cls}.__init__ has no {name} parameter, so `{call}` cannot build the net: only the checks that "
        "pass it fail. The book's constructor is TwoLayerNet(input_size, hidden_size, output_size, "
        "weight_init_std=0.01): add the parameter with its default, and scale the initial weights by it "
        "(book 4.5.1)."), _init_missing_parameter, _init_missing_parameter_details,
                  summary=N_("TwoLayerNet.__init__ lacks a parameter of the book's constructor, "
                      "TwoLayerNet(input_size, hidden_size, output_size, weight_init_std=0.01), so the "
                      "checks that pass it cannot build the net (book 4.5.1).")),
    DiagnosisRule("second-layer-fed-input", (NET,), N_(
        "The second layer multiplies W2, of shape {w2}, by an array of shape {x}: the input x, not the "
        "hidden layer's output. Each layer takes the previous one's output: z1 = sigmoid(np.dot(x, W1) + b1), "
        "then a2 = np.dot(z1, W2) + b2 (book 4.5.1)."), _second_layer_fed_input,
                  _second_layer_fed_input_details,
                  summary=N_("The second layer is given the input x instead of the hidden layer's output (book "
                      "4.5.1).")),
    DiagnosisRule("layers-not-chained", (NET,), N_(
        "In your loop over the layers, `{call}` hands `{name}` to every layer, so each layer gets the input "
        "again instead of the previous layer's output, and the second Affine layer receives x. Feed each "
        "layer's output to the next one: {name} = {layer}.forward({name}) (book 5.7.2)."), _layers_not_chained,
                  _layers_not_chained_details,
                  summary=N_("In the loop over the layers, every layer is given the input instead of the previous "
                      "layer's output (book 5.7.2).")),
    DiagnosisRule("relu-net-for-chapter4", (NET,), N_(
        "Your TwoLayerNet uses ReLU in the hidden layer, as chapter 5's net does (Affine, Relu, Affine, "
        "SoftmaxWithLoss); chapter 4's TwoLayerNet uses sigmoid there, so its predictions, loss and accuracy "
        "are not the chapter-4 net's and do not pass. Its gradients and its training were checked against a "
        "ReLU net with the same parameters, and credited where they agree. For this exercise, use sigmoid "
        "in the hidden layer (book 4.5.1)."), _relu_net),
    DiagnosisRule("backprop-batch-not-averaged", (NET,), N_(
        "The backprop gradients are the batch size times too large: the loss is a mean over the batch, "
        "so its gradient dy = (y - t) is divided by the batch size (book 5.6.3)."),
                  _backprop_batch_not_averaged),
]
