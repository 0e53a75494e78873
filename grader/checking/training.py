"""The training check: a few steps of gradient descent with the student's gradients (4.5.2).

Kept apart from the other net checks (nets.py) because it is the one that runs a loop: the
grader, not the student's code, moves the parameters and measures the loss.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .comparisons import compare, describe_kind
from .context import CheckContext
from .display import to_jsonable, value_text
from .nets import PARAMS, _run
from .student_net import TWO_LAYER_KEYWORDS, StudentNet, _Stop, fill_op
from ..diagnoses.model import Observation
from ..specs.exercises import CheckSpec
from ..i18n import _
from ..report import CheckResult
from ..worker.client import Reply, StudentError, call_op, set_op


def _updates(net: StudentNet, params: dict[str, np.ndarray], handles: dict[str, int | None]) -> list[dict]:
    """Write each parameter into the array the net holds (layers share it), or replace it."""
    return [fill_op(handles[key], params[key]) if handles.get(key) is not None
            else set_op({"handle": net.handle}, ["params", key], params[key]) for key in PARAMS]


def _training_gradients(ctx: CheckContext, net: StudentNet, ref: Any, x: np.ndarray, t: np.ndarray,
                        first: list[dict], seed: int) -> tuple[str, Any]:
    """``gradient`` (backprop) when it gives the reference's gradients at the starting point,
    else the chapter-4 ``numerical_gradient``: a missing, raising or wrong ``gradient`` all
    train the same way, so deleting a broken one gains nothing. Also returns the first step's
    gradients when ``gradient`` gave them (``first`` wrote the starting parameters), else None."""
    fallback = net.method("numerical_gradient")
    if not net.has("gradient"):
        return fallback, None
    reply = ctx.worker.batch(first + [call_op({"handle": net.handle, "method": "gradient"}, (x, t), seed=seed)])
    if reply.ok and len(reply.replies) == len(first) + 1 and all(r.ok for r in reply.replies) and (
            compare(ref.gradient(x, t), reply.replies[-1].value, 1e-6, 1e-9).ok or
            compare(_relu(ref).gradient(x, t), reply.replies[-1].value, 1e-6, 1e-9).ok):
        return "gradient", reply.replies[-1].value
    return fallback, None


def _relu(ref: Any) -> Any:
    from .relu_net import relu_twin
    return relu_twin(ref.params)


def _judge(ref: Any, x: np.ndarray, t: np.ndarray, first: Any) -> tuple[Any, bool]:
    """What the loss is measured with: the reference, or (for gradients that are a ReLU net's at the
    start, not the reference's) the ReLU net with the same parameters. ``ref`` holds the start; the
    twin is computed only for gradients that are not the reference's."""
    if first is None or compare(ref.gradient(x, t), first, 1e-4, 1e-6).ok:
        return ref, False
    twin = _relu(ref)
    return (twin, True) if compare(twin.gradient(x, t), first, 1e-4, 1e-6).ok else (ref, False)


def two_layer_net_training(ctx: CheckContext, spec: CheckSpec) -> list[CheckResult]:
    """A few steps of gradient descent with the student's own gradients lower the loss.

    The grader writes the starting parameters and every step's new ones itself (params -=
    lr * grads, from the student's grads), and judges the result with the reference's loss on
    those parameters: the student's own loss method is never asked, so a loss that merely
    falls from call to call earns nothing.
    """
    def body() -> list[CheckResult]:
        p = spec.params
        seed = int(p.get("seed", 0))
        rng = ctx.rng(seed)
        steps, lr, per_class, classes, inputs, hidden = int(p.get("steps", 20)), float(p.get("lr", 2.0)), 10, 3, 4, 5
        centres = rng.normal(scale=2.0, size=(classes, inputs))
        labels = np.repeat(np.arange(classes), per_class)
        x = np.round(centres[labels] + rng.normal(scale=0.5, size=(labels.size, inputs)), 4)
        t = np.eye(classes)[labels]
        net = StudentNet(ctx, spec, (inputs, hidden, classes), seed=seed, keywords=TWO_LAYER_KEYWORDS)
        # The book's initialisation, chosen here: small weights, zero biases.
        params = {"W1": np.round(rng.normal(scale=0.01, size=(inputs, hidden)), 6), "b1": np.zeros(hidden),
                  "W2": np.round(rng.normal(scale=0.01, size=(hidden, classes)), 6), "b2": np.zeros(classes)}
        ref = ctx.reference(inputs, hidden, classes)
        ref.params = {k: v.copy() for k, v in params.items()}
        before = float(ref.loss(x, t))
        # The arrays the net holds, found once: the steps write into them (a layer net shares them).
        handles = dict(zip(PARAMS, net.array_handles([(("params", k), np.shape(params[k])) for k in PARAMS])))
        updates = _updates(net, params, handles)
        method, grads = _training_gradients(ctx, net, ref, x, t, updates, seed)
        net.script.append(_("net.params[W1, b1, W2, b2] = the grader's values"))
        net.script.append(_("{steps} steps of: grads = net.{method}(x, t); net.params[key] -= {lr:g} * grads[key]"
                            ).format(steps=steps, method=method, lr=lr))
        grad_call = call_op({"handle": net.handle, "method": method}, (x, t), seed=seed)
        first = grads  # the gradients at the start: whose net they are says what the loss is measured with
        if grads is not None:  # the first step's gradients came with the check of `gradient`
            params = _step(spec, net, method, params, grads, lr)
        # The other steps in one request: each step's writes and gradients come back as the batch of
        # one round trip a step would have (see WorkerClient.descend); the parameters are still
        # this process's, computed here from the gradients.
        descent = ctx.worker.descend(net.handle, [handles.get(k) for k in PARAMS], params, grad_call, lr,
                                     steps - (grads is not None))
        try:
            for reply in descent:
                net._check(reply)
                for sub in reply.replies:
                    net._check(sub)
                if len(reply.replies) != len(PARAMS) + 1:  # (a worker that skipped a step's writes)
                    net._check(Reply("crash", error=StudentError("BadReply", "")))
                first = reply.replies[-1].value if first is None else first
                params = _step(spec, net, method, params, reply.replies[-1].value, lr)
        finally:
            descent.close()
        model, relu = _judge(ref, x, t, first)
        with np.errstate(all="ignore"):
            before = float(model.loss(x, t))
            model.params = {k: v.copy() for k, v in params.items()}
            after = float(model.loss(x, t))
        ok = bool(np.isfinite(after)) and after < 0.9 * before
        text = (_("the loss (the grader's, of a net with ReLU in the hidden layer as yours has, on the parameters "
                  "your gradients led to) went from {before} to {after}") if relu else
                _("the loss (the grader's, on the parameters your gradients led to) went from {before} to {after}")
                ).format(before=value_text(before), after=value_text(after))
        ctx.observe(Observation(spec.check, (), "a lower loss", [before, after], ok, "ok" if ok else "wrong",
                                extra={"relu": True} if relu else {}))
        if ok:
            return [CheckResult(spec.name, True, f"`{net.text}`: {text}.", None, [to_jsonable(before),
                                to_jsonable(after)], net.text, graded_by=ctx.primary.label, weight=spec.weight)]
        return [CheckResult(spec.name, False, _("`{call}`: {text}; it should drop by at least 10%.").format(
                            call=net.text, text=text), _("a lower loss"), [to_jsonable(before), to_jsonable(after)], net.text,
                            spec.params.get("hint", ""), ctx.primary.label, outcome="wrong", weight=spec.weight)]
    return _run(ctx, spec, body)


def _step(spec: CheckSpec, net: StudentNet, method: str, params: dict[str, np.ndarray], grads: Any,
          lr: float) -> dict[str, np.ndarray]:
    """params - lr * grads, for gradients that are an array per parameter of its shape; else the check stops."""
    if not isinstance(grads, dict) or not all(isinstance(grads.get(k), np.ndarray) and
                                              grads[k].shape == np.shape(params[k]) for k in PARAMS):
        raise _Stop(CheckResult(spec.name, False, _("`net.{method}(x, t)` returned {got}; expected a dict "
                                                 "of arrays shaped like params.").format(
                                method=method, got=describe_kind(grads)), call=net.text,
                                graded_by=net.ctx.primary.label, outcome="wrong", weight=spec.weight))
    return {k: params[k] - lr * as_float(grads[k]) for k in PARAMS}


def as_float(grad: np.ndarray) -> np.ndarray:
    """A student's gradient as floats (an int array would make the update truncate)."""
    return grad.astype(float) if grad.dtype.kind in "iub" else grad
