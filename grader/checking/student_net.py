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

import re
from typing import Any

import numpy as np

from .context import CheckContext
from .display import source_text
from ..specs.exercises import CheckSpec
from ..i18n import _
from ..report import CheckResult
from ..worker.client import Reply, StudentError, call_op, set_op
from ..worker.requests import has_op, hold_op, put_op
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
    """A step of a check failed; carries the finished (failed) result, the student's error, and what
    the diagnosis rules may need to know about the net (its sizes, parameters its constructor lacks)."""

    def __init__(self, result: CheckResult, error: StudentError | None = None,
                 facts: dict[str, Any] | None = None) -> None:
        self.result = result
        self.error = error
        self.facts = facts or {}


TOO_MANY = re.compile(r"takes (\d+) positional arguments? but (\d+) (?:were|was) given")
UNEXPECTED = re.compile(r"unexpected keyword argument '(\w+)'")


class StudentNet:
    """One instance of the student's class in the worker, with calls described as source text.

    Writes (:meth:`set`, :meth:`set_params`) are queued and travel with the next request, in one
    batch that stops at the first failure: a check costs one round trip per call it makes, not
    four more per parameter it sets (issue 13). A write that fails is reported as it would have
    been on its own, with the script as it stood when the write was made.
    """

    def __init__(self, ctx: CheckContext, spec: CheckSpec, args: tuple, seed: int,
                 keywords: tuple[str, ...] = ()) -> None:
        self.ctx, self.spec, self.seed = ctx, spec, seed
        self.cls = ctx.primary.name
        self.aliases: dict[str, str] = {}
        self.pending: list[tuple[dict[str, Any], int]] = []  # queued writes, and the script's length then
        self.facts: dict[str, Any] = {"sizes": tuple(args[:3])}
        kwargs = dict(zip(keywords, args))
        reply, refused = None, ""
        if kwargs:
            self.script = [f"net = {self.cls}({', '.join(f'{k}={source_text(v)}' for k, v in kwargs.items())})"]
            reply = ctx.worker.call(ctx.primary.target, (), kwargs, seed=seed, keep=True)
            if not reply.ok and reply.error is not None and reply.error.type == "TypeError" and \
                    "argument" in reply.error.message:
                refused, reply = reply.error.message, None  # other parameter names: call positionally,
                # as the student's own code would
        if reply is None:
            construction = self.script[0][len("net = "):] if kwargs else ""
            self.script = [f"net = {self.cls}({', '.join(source_text(a) for a in args)})"]
            reply = ctx.worker.call(ctx.primary.target, args, seed=seed, keep=True)
            if not reply.ok and kwargs:
                self._missing_parameters(reply, refused, list(kwargs), construction)
        self._check(reply)
        self.handle = reply.value.id

    def _missing_parameters(self, reply: Reply, refused: str, keywords: list[str], construction: str) -> None:
        """The book's parameters the constructor lacks, when neither way of calling it could pass them:
        those past its count of positional parameters (``takes 4 positional arguments but 5 were given``)."""
        error = reply.error.message if reply.error is not None and reply.error.type == "TypeError" else ""
        count, unexpected = TOO_MANY.search(error), UNEXPECTED.search(refused)
        missing = keywords[int(count.group(1)) - 1:] if count else []
        if unexpected and unexpected.group(1) in missing:
            self.facts.update(missing_parameters=missing, class_name=self.cls, construction=construction)

    @property
    def text(self) -> str:
        return "; ".join(self.script)

    def _check(self, reply, upto: int | None = None) -> None:
        """Stop the check at a failed step; ``upto``: the script's length when that step was queued."""
        if not reply.ok:
            text = "; ".join(self.script[:upto]) if upto is not None else self.text
            message, outcome = self.ctx.failure_text(f"`{text}`", reply)
            raise _Stop(CheckResult(self.spec.name, False, message, call=text, outcome=outcome,
                                    hint=self.spec.params.get("hint", ""), graded_by=self.ctx.primary.label,
                                    weight=self.spec.weight), reply.error, self.facts)

    def _run(self, ops: list[dict[str, Any]], decode=None) -> list[Reply]:
        """The queued writes, then ``ops``, in one round trip (a stream: each step answered on its own,
        with a call's time limit, stopping at the first that fails, as steps sent one by one would
        have been); the replies of ``ops`` (fewer when one failed: the last is that failure). A
        write that failed stops the check, reported with the script as it stood when it was queued."""
        queued, self.pending = self.pending, []
        steps = [op for op, _n in queued] + ops
        if not steps:
            return []
        replies = self.ctx.worker.stream(steps, stop_on_error=True, decode=decode)
        for sub, (_op, upto) in zip(replies, queued):
            self._check(sub, upto)
        if len(replies) < len(queued) or not replies:  # the stream broke off in the writes: blame the last
            self._check(replies[-1] if replies else Reply("crash", error=StudentError("WorkerCrash", "")),
                        queued[len(replies) - 1][1] if replies else None)
        return replies[len(queued):]

    def set(self, path: tuple[str, ...], value: Any, quiet: bool = False) -> None:
        """``net.W = value`` or ``net.params['W1'] = value``, written into the existing array when
        it has the same shape, so that every object sharing that array (a layer) sees it."""
        if not quiet:
            self.script.append(f"net{_path_text(path)}[...] = {source_text(value)}")
        self.pending.append((put_op({"handle": self.handle}, list(path), value), len(self.script)))

    def set_params(self, values: dict[str, np.ndarray]) -> None:
        """``net.params[key][...] = value`` for every key (each as :meth:`set` writes it)."""
        for key, value in values.items():
            self.pending.append((put_op({"handle": self.handle}, ["params", key], value), len(self.script)))

    def array_handles(self, wanted: list[tuple[tuple[str, ...], tuple[int, ...]]]) -> list[int | None]:
        """A handle to the float array at each path if it has the given shape, else None; one round trip."""
        self._run([])
        reply = self.ctx.worker.batch([hold_op({"handle": self.handle}, list(path), shape) for path, shape in wanted],
                                      stop_on_error=False)
        subs = reply.replies if reply.ok and len(reply.replies) == len(wanted) else [None] * len(wanted)
        return [sub.value.id if sub is not None and sub.ok and isinstance(sub.value, Handle) else None for sub in subs]

    def array_handle(self, path: tuple[str, ...], like: Any) -> int | None:
        """A handle to the float array at ``path`` if it has ``like``'s shape, else None."""
        return self.array_handles([(path, np.shape(like))])[0]

    def get(self, path: tuple[str, ...], shape_only: bool = False) -> Any:
        """The value at ``path``; with ``shape_only`` an array comes back as a stand-in of its shape
        and dtype (all zeros, see :func:`wire.shape_from_wire`), for checks that look at no more."""
        return self.get_many([path], shape_only=[shape_only])[0]

    def get_many(self, paths: list[tuple[str, ...]], shape_only: list[bool] | None = None) -> list[Any]:
        """The values at ``paths``, in one round trip; the first that cannot be read stops the check
        (naming that access), as reading them one by one would."""
        flags = shape_only or [False] * len(paths)
        ops = [dict({"op": "get", "target": {"handle": self.handle}, "path": list(path)},
                    **({"shape_only": True} if flag else {})) for path, flag in zip(paths, flags)]
        values = []
        for path, sub in zip(paths, self._run(ops, decode=shape_from_wire if any(flags) else None)):
            if not sub.ok:
                self.script.append(f"net{_path_text(path)}")  # name the failing access in the message
            self._check(sub)
            values.append(sub.value)
        if len(values) < len(paths):  # (a worker that stopped answering without saying why)
            self.script.append(f"net{_path_text(paths[len(values)])}")
            self._check(Reply("crash", error=StudentError("WorkerCrash", "")))
        return values

    def method(self, name: str) -> str:
        """The student's name for the book's method ``name`` (``forward`` for ``predict``)."""
        if name in self.aliases:
            return self.aliases[name]
        names = [name, *METHOD_ALIASES.get(name, ())]
        self.aliases[name] = self._chosen(names, self._run([has_op({"handle": self.handle}, names, first=True)]))
        return self.aliases[name]

    @staticmethod
    def _chosen(names: list[str], replies: list[Reply]) -> str:
        """The first of ``names`` a 'has' reply says the object has, else the book's."""
        reply = replies[0] if replies else None
        present = reply.value if reply is not None and reply.ok and isinstance(reply.value, list) else []
        return next((n for n, here in zip(names, present) if here is True), names[0])

    def call(self, method: str, *args: Any) -> Any:
        """``net.method(*args)`` by the student's name for it. The first call of a method by several
        names asks which one the object has and calls it in the same round trip (the worker picks
        the same name by the same rule; the answer to the question names it even if the call kills
        the worker)."""
        arguments = ", ".join(source_text(a) for a in args)
        names = [self.aliases[method]] if method in self.aliases else [method, *METHOD_ALIASES.get(method, ())]
        if len(names) == 1:
            self.aliases[method] = names[0]
            self.script.append(f"net.{names[0]}({arguments})")
            replies = self._run([call_op({"handle": self.handle, "method": names[0]}, args, seed=self.seed)])
        else:
            replies = self._run([has_op({"handle": self.handle}, names, first=True),
                                 call_op({"handle": self.handle, "method": names}, args, seed=self.seed)])
            self.aliases[method] = self._chosen(names, replies)
            self.script.append(f"net.{self.aliases[method]}({arguments})")
        reply = replies[-1] if replies else Reply("crash", error=StudentError("WorkerCrash", ""))
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
        replies = self._run([has_op({"handle": self.handle}, [method])])
        return bool(replies and replies[0].ok and replies[0].value and replies[0].value[0] is True)

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
        self._run([])
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
