"""Named checks for the stateful exercises: simpleNet (4.4.2) and TwoLayerNet (4.5.1).

The grader builds the student's object in the worker, sets its parameters to values
it chose, calls its methods, and compares the plain results with the reference net
carrying the same parameters. Each check builds its own object, so one broken
method costs only its own check.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import numpy as np

from .comparisons import compare, describe_kind
from .context import CheckContext, right_value, wrong_value
from .display import source_text, to_jsonable, value_text
from ..specs.exercises import CheckSpec
from ..diagnoses.model import Observation
from ..hookspecs import hookimpl
from ..i18n import _
from ..report import CheckResult
from ..worker.client import call_op, set_op
from .student_net import TWO_LAYER_KEYWORDS, StudentNet, _Stop, fill_op

PARAMS = ("W1", "b1", "W2", "b2")


def _run(ctx: CheckContext, spec: CheckSpec, body: Callable[[], list[CheckResult]],
         companion: str = "") -> list[CheckResult]:
    """Run a check's body; a step that fails ends it with that failure. A check that also
    judges a ``companion`` (params left unchanged) loses it too when it stops, so a method
    that raises costs what a wrong value costs."""
    try:
        return body()
    except _Stop as stop:
        ctx.observe(Observation(spec.check, (), None, None, False, stop.result.outcome, stop.error,
                                bool(spec.params.get("book")), _facts(spec, **stop.facts)))
        if not companion:
            return [stop.result]
        lost = CheckResult(companion, False, _("not checked: the call did not return a value"), call=stop.result.call,
                           graded_by=stop.result.graded_by, outcome=stop.result.outcome, weight=spec.weight)
        return [stop.result, lost]


def _facts(spec: CheckSpec, **more: Any) -> dict[str, Any]:
    """What diagnosis rules may need to know about a check besides its values."""
    return {"large_logits": bool(spec.params.get("large_logits")), **more}


def _rebuild(ctx: CheckContext, spec: CheckSpec, net: StudentNet, settings: dict[str, np.ndarray], method: str,
             *args: np.ndarray) -> Callable[[Any], str]:
    """For a failing check: the snippet that rebuilds the net and the call (grader/checking/reproduce.py).
    ``settings``: "W" (simpleNet's W, written in place) or the names of ``params``."""
    def code(expected: Any) -> str:
        from .reproduce import net_snippet
        targets = [("net.W[...]" if key == "W" else f"net.params[{key!r}]", key, value)
                   for key, value in settings.items()]
        return net_snippet(ctx.exercise.id, spec.name, net.script[0], targets, net.aliases.get(method, method),
                           list(zip(("x", "t"), args)), expected)
    return code


def _verdict(ctx: CheckContext, spec: CheckSpec, net: StudentNet, expected: Any, actual: Any,
             rtol: float, atol: float, extra: Callable[[Any], str] | None = None,
             rebuild: Callable[[Any], str] | None = None, **facts: Any) -> CheckResult:
    result = compare(expected, actual, rtol, atol)
    ctx.observe(Observation(spec.check, (), expected, actual, result.ok, "ok" if result.ok else "wrong", None,
                            bool(spec.params.get("book")), _facts(spec, **facts)))
    hint = spec.params.get("hint", "")
    if result.ok:
        passed = right_value(spec.name, net.text, expected, actual, graded_by=ctx.primary.label, weight=spec.weight)
        return replace(passed, message=passed.message + net.renamed())
    problem = result.problem + (extra(actual) if extra else "") + net.renamed()
    failed = wrong_value(spec.name, net.text, expected, actual, problem, hint=hint, graded_by=ctx.primary.label,
                         weight=spec.weight, book_value=spec.params.get("book_value"))
    return replace(failed, reproduce=rebuild(expected)) if rebuild is not None else failed


def _array(params: dict, key: str, rng: np.random.Generator, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    if key in params:
        return np.array(params[key], dtype=float)
    return np.round(rng.normal(scale=scale, size=shape), 4)


# ---- simpleNet ------------------------------------------------------------------

def simple_net_weights(ctx: CheckContext, spec: CheckSpec) -> list[CheckResult]:
    def body() -> list[CheckResult]:
        net = StudentNet(ctx, spec, (), seed=int(spec.params.get("seed", 0)))
        w = net.get(("W",))
        if isinstance(w, np.ndarray) and w.shape == (2, 3) and w.dtype.kind == "f":
            return [CheckResult(spec.name, True, _("`{call}` gives a W of shape (2, 3).").format(call=net.text),
                                call=net.text, graded_by=ctx.primary.label, weight=spec.weight)]
        message = _("after `{call}`, net.W is {got}; expected a float array of shape (2, 3) (2 inputs, 3 outputs).")
        return [CheckResult(spec.name, False, message.format(call=net.text, got=describe_kind(w)), [2, 3],
                            to_jsonable(w), net.text, _("Initialise it with np.random.randn(2, 3)."),
                            ctx.primary.label, outcome="wrong", weight=spec.weight)]
    return _run(ctx, spec, body)


def _simple_setup(ctx: CheckContext, spec: CheckSpec):
    p = spec.params
    rng = ctx.rng(int(p.get("seed", 0)))
    w = _array(p, "W", rng, (2, 3))
    x = _array(p, "x", rng, (2,))
    # A random answer is the class the net finds most likely: the loss then stays away from
    # -log(tiny), where the 1e-7 delta alone would move it past any tolerance.
    t = np.array(p["t"], dtype=float) if "t" in p else np.eye(3)[int(np.argmax(x @ w))]
    ref = ctx.reference()
    ref.W = w.copy()
    net = StudentNet(ctx, spec, (), seed=int(p.get("seed", 0)))
    net.set(("W",), w)
    return net, ref, w, x, t


def simple_net_predict(ctx: CheckContext, spec: CheckSpec) -> list[CheckResult]:
    def body() -> list[CheckResult]:
        net, ref, w, x, t = _simple_setup(ctx, spec)
        actual = net.call("predict", x)
        return [_verdict(ctx, spec, net, ref.predict(x), actual, 1e-7, 1e-9,
                         rebuild=_rebuild(ctx, spec, net, {"W": w}, "predict", x))]
    return _run(ctx, spec, body)


def simple_net_loss(ctx: CheckContext, spec: CheckSpec) -> list[CheckResult]:
    def body() -> list[CheckResult]:
        net, ref, w, x, t = _simple_setup(ctx, spec)
        actual = net.call("loss", x, t)
        return [_verdict(ctx, spec, net, ref.loss(x, t), actual, 1e-5, 1e-6,
                         rebuild=_rebuild(ctx, spec, net, {"W": w}, "loss", x, t))]
    return _run(ctx, spec, body)


def simple_net_loss_gradient(ctx: CheckContext, spec: CheckSpec) -> list[CheckResult]:
    """The gradient of the student's loss in W, by central differences taken here, not in the worker."""
    def body() -> list[CheckResult]:
        net, ref, w, x, t = _simple_setup(ctx, spec)
        h = 1e-4
        ops, target, loss = [], {"handle": net.handle}, net.method("loss")
        array = net.array_handle(("W",), w)  # moved in place: whatever shares W sees the change
        for idx in np.ndindex(w.shape):
            for sign in (1, -1):
                moved = w.copy()
                moved[idx] += sign * h
                write = fill_op(array, moved) if array is not None else set_op(target, ["W"], moved)
                ops += [write, call_op({"handle": net.handle, "method": loss}, (x, t))]
        net.script.append(_("central differences of net.loss({x}, {t}) in each W[i, j]").format(
            x=source_text(x), t=source_text(t)))
        reply = ctx.worker.batch(ops)
        net._check(reply)
        losses = [r.value for r in reply.replies[1::2]]
        failed = next((r for r in reply.replies if not r.ok), None)
        if failed is not None:
            net._check(failed)
        numbers = [float(v) if isinstance(v, (int, float, np.ndarray)) and np.size(v) == 1 else np.nan for v in losses]
        grad = np.array([(numbers[2 * i] - numbers[2 * i + 1]) / (2 * h) for i in range(w.size)]).reshape(w.shape)
        from grader._reference.gradients import numerical_gradient
        expected = numerical_gradient(lambda _: ref.loss(x, t), ref.W)
        return [_verdict(ctx, spec, net, expected, grad, 1e-4, 1e-6)]
    return _run(ctx, spec, body)


# ---- TwoLayerNet ---------------------------------------------------------------

def _two_layer_setup(ctx: CheckContext, spec: CheckSpec, sizes=(5, 4, 3), batch: int = 6):
    p = spec.params
    seed = int(p.get("seed", 0))
    rng = ctx.rng(seed)
    i, h, o = sizes
    params = {"W1": np.round(rng.normal(size=(i, h)), 4), "b1": np.round(rng.normal(scale=0.5, size=h), 4),
              "W2": np.round(rng.normal(size=(h, o)), 4), "b2": np.round(rng.normal(scale=0.5, size=o), 4)}
    x = np.round(rng.normal(size=(batch, i)), 4)
    t = np.eye(o)[rng.integers(0, o, size=batch)]
    ref = ctx.reference(i, h, o)
    ref.params = {k: v.copy() for k, v in params.items()}
    net = StudentNet(ctx, spec, (i, h, o), seed=seed, keywords=TWO_LAYER_KEYWORDS)
    net.set_params(params)
    net.script.append(_("net.params[W1, b1, W2, b2] = the grader's values"))
    return net, ref, x, t, params


def _row_sums(actual: Any) -> str:
    if isinstance(actual, np.ndarray) and actual.ndim == 2 and actual.dtype.kind == "f":
        sums = actual.sum(axis=1)
        if not np.allclose(sums, 1.0):
            return _("; its rows sum to {sums}, but each row is one sample's probabilities and must sum to 1"
                     ).format(sums=value_text(np.round(sums, 4)))
    return ""


def two_layer_net_init(ctx: CheckContext, spec: CheckSpec) -> list[CheckResult]:
    def body() -> list[CheckResult]:
        sizes = tuple(spec.params.get("sizes", (784, 100, 10)))
        net = StudentNet(ctx, spec, sizes, seed=int(spec.params.get("seed", 0)), keywords=TWO_LAYER_KEYWORDS)
        i, h, o = sizes
        shapes = {"W1": (i, h), "b1": (h,), "W2": (h, o), "b2": (o,)}
        problems = []
        # One round trip for the four; only the weights' shapes matter here: W1 (784 x 100) is not sent whole.
        values = net.get_many([("params", key) for key in shapes], shape_only=[key.startswith("W") for key in shapes])
        for (key, shape), value in zip(shapes.items(), values):
            if not isinstance(value, np.ndarray) or value.shape != shape:
                problems.append(_("params['{key}'] is {got}, expected shape {shape}").format(
                    key=key, got=describe_kind(value), shape=shape))
            elif key.startswith("b") and np.any(value != 0):
                problems.append(_("params['{key}'] is not all zeros (biases start at 0)").format(key=key))
        if problems:
            return [CheckResult(spec.name, False, _("after `{call}`: {problems}.").format(
                                    call=net.text, problems="; ".join(problems)),
                                {k: list(v) for k, v in shapes.items()}, None, net.text,
                                spec.params.get("hint", ""), ctx.primary.label, outcome="wrong", weight=spec.weight)]
        return [CheckResult(spec.name, True, _("`{call}` creates W1, b1, W2, b2 with the right shapes.").format(
                                call=net.text),
                            call=net.text, graded_by=ctx.primary.label, weight=spec.weight)]
    return _run(ctx, spec, body)


def two_layer_net_init_scale(ctx: CheckContext, spec: CheckSpec) -> list[CheckResult]:
    """The standard deviation of W1 and W2 follows weight_init_std (default 0.01)."""
    def body() -> list[CheckResult]:
        sizes = tuple(spec.params.get("sizes", (200, 50, 10)))
        std = spec.params.get("weight_init_std")
        args = sizes + ((std,) if std is not None else ())
        want = 0.01 if std is None else float(std)
        net = StudentNet(ctx, spec, args, seed=int(spec.params.get("seed", 0)), keywords=TWO_LAYER_KEYWORDS)
        stds = {}
        for key in ("W1", "W2"):
            value = net.get(("params", key))
            if not isinstance(value, np.ndarray) or value.dtype.kind not in "iuf" or value.size < 2:
                raise _Stop(CheckResult(spec.name, False, _("after `{call}`, params['{key}'] is {got}.").format(
                                        call=net.text, key=key, got=describe_kind(value)), call=net.text,
                                        graded_by=ctx.primary.label,
                                        outcome="wrong", weight=spec.weight))
            stds[key] = float(np.std(value))
        off = {k: s for k, s in stds.items() if not abs(s - want) <= 0.1 * want}
        ctx.observe(Observation(spec.check, args, want, stds, not off, "ok" if not off else "wrong",
                                extra=_facts(spec, stds=stds, want=want)))
        text = ", ".join(f"std(params['{k}']) = {s:.4g}" for k, s in stds.items())
        if off:
            message = _("after `{call}`: {stds}; expected about {want:g} (weight_init_std * np.random.randn(...)).")
            return [CheckResult(spec.name, False, message.format(call=net.text, stds=text, want=want), want, stds,
                                net.text,
                                spec.params.get("hint", ""), ctx.primary.label, outcome="wrong", weight=spec.weight)]
        return [CheckResult(spec.name, True, _("`{call}`: {stds}, as expected.").format(call=net.text, stds=text),
                            want, stds, net.text,
                            graded_by=ctx.primary.label, weight=spec.weight)]
    return _run(ctx, spec, body)


def two_layer_net_predict(ctx: CheckContext, spec: CheckSpec) -> list[CheckResult]:
    def body() -> list[CheckResult]:
        net, ref, x, t, _params = _two_layer_setup(ctx, spec)
        actual = net.call("predict", x)
        expected = ref.predict(x)
        if not compare(expected, actual, 1e-6, 1e-9).ok and _scores_shape(actual, expected) and \
                net.ends_in_softmax_with_loss():
            # The chapter-5 way: predict stops before softmax, which the last layer applies with
            # the loss. Its scores are right when their softmax is the reference's probabilities.
            net.script.append(_("softmax of the scores (your net ends in SoftmaxWithLoss)"))
            actual = _softmax_rows(actual)
        return [_verdict(ctx, spec, net, expected, actual, 1e-6, 1e-9, _row_sums, params=ref.params, x=x,
                         rebuild=_rebuild(ctx, spec, net, _params, "predict", x))]
    return _run(ctx, spec, body)


def _scores_shape(actual: Any, expected: np.ndarray) -> bool:
    return isinstance(actual, np.ndarray) and actual.dtype.kind == "f" and actual.shape == expected.shape


def _softmax_rows(a: np.ndarray) -> np.ndarray:
    shifted = a - np.max(a, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def two_layer_net_loss(ctx: CheckContext, spec: CheckSpec) -> list[CheckResult]:
    def body() -> list[CheckResult]:
        net, ref, x, t, params = _two_layer_setup(ctx, spec)
        actual = net.call("loss", x, t)
        return [_verdict(ctx, spec, net, ref.loss(x, t), actual, 1e-5, 1e-6,
                         rebuild=_rebuild(ctx, spec, net, params, "loss", x, t))]
    return _run(ctx, spec, body)


def two_layer_net_accuracy(ctx: CheckContext, spec: CheckSpec) -> list[CheckResult]:
    def body() -> list[CheckResult]:
        net, ref, x, t, _params = _two_layer_setup(ctx, spec, batch=20)
        # Half the labels agree with the net's own predictions, so the accuracy is neither 0 nor 1.
        labels = np.argmax(ref.predict(x), axis=1)
        rng = ctx.rng(int(spec.params.get("seed", 0)) + 1)
        labels[10:] = rng.integers(0, t.shape[1], size=10)
        t = np.eye(t.shape[1])[labels]
        actual = net.call("accuracy", x, t)
        return [_verdict(ctx, spec, net, ref.accuracy(x, t), actual, 1e-9, 1e-12, predicted=ref.predict(x), t=t,
                         rebuild=_rebuild(ctx, spec, net, _params, "accuracy", x, t))]
    return _run(ctx, spec, body)


def two_layer_net_numerical_gradient(ctx: CheckContext, spec: CheckSpec) -> list[CheckResult]:
    name = _("{name}: params left unchanged").format(name=spec.name)

    def body() -> list[CheckResult]:
        net, ref, x, t, params = _two_layer_setup(ctx, spec)
        actual = net.call("numerical_gradient", x, t)
        # ``params`` is the grader's own copy of what it wrote; the net's are read back after the call.
        changed = [k for k, now in zip(PARAMS, net.get_many([("params", k) for k in PARAMS]))
                   if not _same(now, params[k])]
        facts = {"loss_reads_params": net.loss_reads_params(x, t)} if _all_zero(actual) else {}
        expected = ref.numerical_gradient(x, t)
        relu = _relu_value(ref, "numerical_gradient", x, t, expected, actual, 1e-4, 1e-6)
        plain = _without_delta(ref, x, t, expected, actual, 1e-4, 1e-6) if relu is None else None
        value = _verdict(ctx, spec, net, expected if relu is None and plain is None else (relu if relu is not None
                         else plain), actual, 1e-4, 1e-6, **facts, **({"relu": True} if relu is not None else {}),
                         rebuild=_rebuild(ctx, spec, net, params, "numerical_gradient", x, t))
        if relu is not None:
            value = replace(value, message=value.message + _relu_note())
        ctx.observe(Observation("two_layer_net.params_unchanged", (), None, changed, not changed))
        if changed:
            message = _("after `{call}`, params {keys} were changed: numerical_gradient must put every element "
                        "back after computing f(x+h) and f(x-h).")
            kept = CheckResult(name, False, message.format(call=net.text, keys=", ".join(changed)),
                               call=net.text, graded_by=ctx.primary.label, outcome="wrong", weight=spec.weight)
        elif not value.passed:
            # Leaving the parameters alone is worth something only beside the right gradients: a
            # stub returning zeros leaves them alone too (issue 12: 11/25 for computing nothing).
            kept = CheckResult(name, False, _("not credited: `{call}` left the parameters as they were, but that "
                                              "counts only when the gradients are right.").format(call=net.text),
                               call=net.text, graded_by=ctx.primary.label, outcome="wrong", weight=spec.weight)
        else:
            kept = CheckResult(name, True, _("`{call}` left the parameters as they were.").format(call=net.text),
                               call=net.text, graded_by=ctx.primary.label, weight=spec.weight)
        return [value, kept]
    return _run(ctx, spec, body, companion=name)


def _all_zero(grads: Any) -> bool:
    return isinstance(grads, dict) and bool(grads) and all(
        isinstance(v, np.ndarray) and v.size and not np.any(v) for v in grads.values())


def _same(a: Any, b: np.ndarray) -> bool:
    return isinstance(a, np.ndarray) and a.shape == b.shape and bool(np.array_equal(a, b))


def two_layer_net_backprop(ctx: CheckContext, spec: CheckSpec) -> list[CheckResult]:
    """``gradient`` (backprop) is chapter-5 material. Absent, raising and wrong cost the same:
    the chapter-4 spec gives this check weight 0, so it teaches without moving the score (and
    deleting a broken ``gradient`` gains nothing); a spec that weighs it makes absence cost
    what a failure costs."""
    def body() -> list[CheckResult]:
        net, ref, x, t, _params = _two_layer_setup(ctx, spec)
        if not net.has("gradient"):
            if spec.weight:
                return [CheckResult(spec.name, False, _("{name} has no gradient method (backprop, chapter 5).").format(
                    name=ctx.primary.name), graded_by=ctx.primary.label, outcome="wrong", weight=spec.weight)]
            return [CheckResult(spec.name, False, _("{name} has no gradient method (backprop, chapter 5): "
                                                     "not graded.").format(name=ctx.primary.name), skipped=True,
                                graded_by=ctx.primary.label, outcome="not-run", weight=spec.weight)]
        actual = net.call("gradient", x, t)
        expected = ref.gradient(x, t)
        relu = _relu_value(ref, "gradient", x, t, expected, actual, 1e-6, 1e-9)
        if relu is None:
            return [_verdict(ctx, spec, net, expected, actual, 1e-6, 1e-9, batch=x.shape[0])]
        value = _verdict(ctx, spec, net, relu, actual, 1e-6, 1e-9, batch=x.shape[0], relu=True)
        return [replace(value, message=value.message + _relu_note())]
    return _run(ctx, spec, body)


def _without_delta(ref: Any, x: np.ndarray, t: np.ndarray, expected: Any, actual: Any, rtol: float,
                   atol: float) -> Any:
    """The gradients of the same loss without the 1e-7 delta in its log, when ``actual`` is those.

    The delta only keeps log(0) finite; a loss without it is the same function wherever no
    probability is 0, and already costs its points in cross_entropy_error. Its gradients differ
    from the reference's by about delta / y**2 per sample, past the tolerance when a random label
    falls on a class the net finds unlikely: which draws do that depends on the secret's random
    inputs, and the same code must get the same verdict whatever they are.
    """
    if compare(expected, actual, rtol, atol).ok:
        return None
    from grader._reference.gradients import numerical_gradient

    def loss(_w: Any) -> float:
        y = ref.predict(x)
        with np.errstate(all="ignore"):
            return float(-np.sum(t * np.log(y)) / y.shape[0])

    value = {key: numerical_gradient(loss, ref.params[key]) for key in PARAMS}
    return value if all(np.all(np.isfinite(v)) for v in value.values()) and compare(value, actual, rtol, atol).ok \
        else None


def _relu_note() -> str:
    return _(" That is the value of a net with ReLU in the hidden layer, as yours has (chapter 5's), computed "
             "with the same parameters: right for that net, and credited as such.")


def _relu_value(ref: Any, method: str, x: np.ndarray, t: np.ndarray, expected: Any, actual: Any,
                rtol: float, atol: float) -> Any:
    """The ReLU twin's value of ``method`` when ``actual`` is that and not the reference's, else None
    (computed only for a value the reference does not give: a right one costs nothing more)."""
    if compare(expected, actual, rtol, atol).ok:
        return None
    from .relu_net import relu_twin
    value = getattr(relu_twin(ref.params), method)(x, t)
    return value if compare(value, actual, rtol, atol).ok else None


@hookimpl
def grader_checks() -> dict:
    from .training import two_layer_net_training  # it builds on this module's helpers
    return {
        "simple_net.weights": simple_net_weights,
        "simple_net.predict": simple_net_predict,
        "simple_net.loss": simple_net_loss,
        "simple_net.loss_gradient": simple_net_loss_gradient,
        "two_layer_net.init": two_layer_net_init,
        "two_layer_net.init_scale": two_layer_net_init_scale,
        "two_layer_net.predict": two_layer_net_predict,
        "two_layer_net.loss": two_layer_net_loss,
        "two_layer_net.accuracy": two_layer_net_accuracy,
        "two_layer_net.numerical_gradient": two_layer_net_numerical_gradient,
        "two_layer_net.backprop": two_layer_net_backprop,
        "two_layer_net.training": two_layer_net_training,
    }
