"""The student's network object, living in the worker, driven from here one call at a time.

Students write the book's classes in their own way, and the checks meet them halfway:

* the constructor is called with the book's keywords (``TwoLayerNet(input_size=784, ...)``)
  so an extra parameter of the student's (``activation`` before ``weight_init_std``) does not
  receive the wrong value; a constructor with other parameter names is called positionally;
* parameters are written into the arrays the object already holds (``params['W1'][...] =
  value``): a chapter-5 net whose layers share those arrays sees the change;
* a method the book calls ``predict`` may be the student's ``forward`` (see METHOD_ALIASES);
  the check says which name it called.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .context import CheckContext
from .display import source_text
from ..exercises import CheckSpec
from ..i18n import _
from ..report import CheckResult
from ..worker.client import StudentError, call_op, get_op, set_op
from ..worker.wire import Handle, Opaque, shape_from_wire

TWO_LAYER_KEYWORDS = ("input_size", "hidden_size", "output_size", "weight_init_std")
# Other names learners give the book's methods, tried in order when the book's name is absent.
METHOD_ALIASES = {
    "predict": ("forward", "get_predict", "predict_proba", "inference"),
    "loss": ("get_loss", "loss_function", "compute_loss", "calc_loss"),
    "accuracy": ("get_accuracy", "acc", "calc_accuracy", "compute_accuracy"),
    "numerical_gradient": ("numerical_gradients", "numerical_grad", "numeric_gradient", "num_gradient",
                           "numerical_gradient_net"),
    "gradient": ("gradients", "backprop", "backward_gradient"),
}
# Attributes where a chapter-5 net keeps its last layer.
LAST_LAYER_NAMES = ("lastLayer", "last_layer", "lastlayer", "loss_layer", "output_layer")


class _Stop(Exception):
    """A step of a check failed; carries the finished (failed) result and the student's error."""

    def __init__(self, result: CheckResult, error: StudentError | None = None) -> None:
        self.result = result
        self.error = error


class StudentNet:
    """One instance of the student's class in the worker, with calls described as source text."""

    def __init__(self, ctx: CheckContext, spec: CheckSpec, args: tuple, seed: int,
                 keywords: tuple[str, ...] = ()) -> None:
        self.ctx, self.spec, self.seed = ctx, spec, seed
        self.cls = ctx.primary.name
        self.aliases: dict[str, str] = {}
        kwargs = dict(zip(keywords, args))
        reply = None
        if kwargs:
            self.script = [f"net = {self.cls}({', '.join(f'{k}={source_text(v)}' for k, v in kwargs.items())})"]
            reply = ctx.worker.call(ctx.primary.target, (), kwargs, seed=seed, keep=True)
            if not reply.ok and reply.error is not None and reply.error.type == "TypeError" and \
                    "argument" in reply.error.message:
                reply = None  # other parameter names: call positionally, as the student's own code would
        if reply is None:
            self.script = [f"net = {self.cls}({', '.join(source_text(a) for a in args)})"]
            reply = ctx.worker.call(ctx.primary.target, args, seed=seed, keep=True)
        self._check(reply)
        self.handle = reply.value.id

    @property
    def text(self) -> str:
        return "; ".join(self.script)

    def _check(self, reply) -> None:
        if not reply.ok:
            message, outcome = self.ctx.failure_text(f"`{self.text}`", reply)
            raise _Stop(CheckResult(self.spec.name, False, message, call=self.text, outcome=outcome,
                                    hint=self.spec.params.get("hint", ""), graded_by=self.ctx.primary.label,
                                    weight=self.spec.weight), reply.error)

    def set(self, path: tuple[str, ...], value: Any, quiet: bool = False) -> None:
        """``net.W = value`` or ``net.params['W1'] = value``, written into the existing array when
        it has the same shape, so that every object sharing that array (a layer) sees it."""
        if not quiet:
            self.script.append(f"net{_path_text(path)}[...] = {source_text(value)}")
        array = self.array_handle(path, value)
        if array is not None:
            self._check(self.ctx.worker.request(fill_op(array, value)))
        else:
            self._check(self.ctx.worker.request(set_op({"handle": self.handle}, list(path), value)))

    def set_params(self, values: dict[str, np.ndarray]) -> None:
        """``net.params[key][...] = value`` for every key, in three round trips whatever the count:
        the params dict, then each array (its value, to check its shape, and a handle), then the writes."""
        reply = self.ctx.worker.call({"handle": self.handle, "method": "__getattribute__"}, ("params",), keep=True)
        handles: dict[str, int | None] = {key: None for key in values}
        if reply.ok and isinstance(reply.value, Handle):
            params = {"handle": reply.value.id, "method": "__getitem__"}
            ops = [op for key in values for op in (get_op({"handle": self.handle}, ["params", key]),
                                                    call_op(params, (key,), keep=True))]
            found = self.ctx.worker.batch(ops, stop_on_error=False)
            pairs = list(zip(found.replies[0::2], found.replies[1::2])) if found.ok else []
            for (key, like), (current, array) in zip(values.items(), pairs):
                if current.ok and array.ok and isinstance(array.value, Handle) and _same_kind(current.value, like):
                    handles[key] = array.value.id
        writes = [fill_op(handles[key], value) if handles[key] is not None
                  else set_op({"handle": self.handle}, ["params", key], value) for key, value in values.items()]
        reply = self.ctx.worker.batch(writes)
        self._check(reply)
        for sub in reply.replies:
            self._check(sub)

    def array_handle(self, path: tuple[str, ...], like: Any) -> int | None:
        """A handle to the float array at ``path`` if it has ``like``'s shape, else None."""
        current = self.ctx.worker.request({"op": "get", "target": {"handle": self.handle}, "path": list(path)})
        if not (current.ok and _same_kind(current.value, like)):
            return None
        handle = self.handle
        for depth, key in enumerate(path):
            method = "__getattribute__" if depth == 0 else "__getitem__"
            reply = self.ctx.worker.call({"handle": handle, "method": method}, (key,), keep=True)
            if not reply.ok:
                return None
            handle = reply.value.id
        return handle

    def get(self, path: tuple[str, ...], shape_only: bool = False) -> Any:
        """The value at ``path``; with ``shape_only`` an array comes back as a stand-in of its shape
        and dtype (all zeros, see :func:`wire.shape_from_wire`), for checks that look at no more."""
        message = {"op": "get", "target": {"handle": self.handle}, "path": list(path)}
        reply = self.ctx.worker.request(dict(message, shape_only=True), decode=shape_from_wire) if shape_only \
            else self.ctx.worker.request(message)
        if not reply.ok:
            self.script.append(f"net{_path_text(path)}")  # name the failing access in the message
        self._check(reply)
        return reply.value

    def method(self, name: str) -> str:
        """The student's name for the book's method ``name`` (``forward`` for ``predict``)."""
        if name in self.aliases:
            return self.aliases[name]
        chosen = name
        if not self.has(name):
            chosen = next((alias for alias in METHOD_ALIASES.get(name, ()) if self.has(alias)), name)
        self.aliases[name] = chosen
        return chosen

    def call(self, method: str, *args: Any) -> Any:
        actual = self.method(method)
        self.script.append(f"net.{actual}({', '.join(source_text(a) for a in args)})")
        reply = self.ctx.worker.call({"handle": self.handle, "method": actual}, args, seed=self.seed)
        self._check(reply)
        return reply.value

    def renamed(self) -> str:
        """' (your class calls predict `forward`)' for every book method found under another name."""
        pairs = [(book, mine) for book, mine in self.aliases.items() if book != mine]
        if not pairs:
            return ""
        return _(" (found under your names: {pairs})").format(
            pairs=", ".join(f"`{mine}` for {book}" for book, mine in pairs))

    def has(self, method: str) -> bool:
        reply = self.ctx.worker.request({"op": "has", "target": {"handle": self.handle}, "names": [method]})
        return bool(reply.ok and reply.value and reply.value[0])

    def loss_reads_params(self, x: np.ndarray, t: np.ndarray) -> bool:
        """Does the student's loss change when W1 changes? Tells a numerical gradient that moves a
        copy (zeros although the loss depends on the parameters) from one that is zero on purpose."""
        loss = self.method("loss")
        w1 = self.get(("params", "W1"))
        if not isinstance(w1, np.ndarray):
            return False
        handle = self.array_handle(("params", "W1"), w1)
        update = fill_op(handle, w1 + 1.0) if handle is not None else set_op({"handle": self.handle},
                                                                             ["params", "W1"], w1 + 1.0)
        reply = self.ctx.worker.batch([call_op({"handle": self.handle, "method": loss}, (x, t)), update,
                                       call_op({"handle": self.handle, "method": loss}, (x, t))])
        if not reply.ok or len(reply.replies) != 3 or not all(r.ok for r in reply.replies):
            return False
        before, after = reply.replies[0].value, reply.replies[2].value
        try:
            return bool(np.isfinite(float(before)) and np.isfinite(float(after)) and float(before) != float(after))
        except (TypeError, ValueError):
            return False

    def ends_in_softmax_with_loss(self) -> bool:
        """A chapter-5 net: its last layer is a SoftmaxWithLoss, so its predict returns scores."""
        for name in LAST_LAYER_NAMES:
            reply = self.ctx.worker.request({"op": "get", "target": {"handle": self.handle}, "path": [name]})
            if reply.ok and isinstance(reply.value, Opaque) and "softmaxwithloss" in reply.value.type_name.lower():
                return True
        return False


def _same_kind(current: Any, like: Any) -> bool:
    return isinstance(current, np.ndarray) and current.dtype.kind == "f" and current.shape == np.shape(like)


def fill_op(array_handle: int, value: Any) -> dict[str, Any]:
    """``array[()] = value``: every element of the existing array, whatever its shape."""
    return call_op({"handle": array_handle, "method": "__setitem__"}, ((), value))


def _path_text(path: tuple[str, ...]) -> str:
    return "".join(f"[{p!r}]" if i else f".{p}" for i, p in enumerate(path))
