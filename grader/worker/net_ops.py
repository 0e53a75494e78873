"""What the worker does to a student's network object for the checks of simpleNet and TwoLayerNet.

Loaded by path beside the runner (never as part of the grader package); each function takes the
Worker, whose op(), walk(), encoding and NumPy it uses. These are the worker's side of the
requests that save the trusted side round trips (issue 13): find a method by the student's name
for it, write a parameter into the array the net already holds, and run the steps of gradient
descent of the training check. What they report is judged by the trusted side, never here.
"""
from __future__ import annotations


def callables(obj, names: list, first: bool = False) -> list:
    """Which of ``names`` are callable attributes of ``obj`` (one whose lookup raises counts as
    absent); with ``first``, looked up in order until one is (the rest count as absent)."""
    found = []
    for name in names:
        if first and True in found:
            found.append(False)
            continue
        try:
            found.append(callable(getattr(obj, str(name), None)))
        except BaseException:
            found.append(False)
    return found


def first_callable(obj, names: list) -> str:
    """The first of ``names`` that is a callable attribute, else the first (whose lookup then raises)."""
    present = callables(obj, names, first=True)
    return str(names[present.index(True)] if True in present else names[0])


def holder(worker, obj, path: list, shape: tuple):
    """The array at ``path`` (reached by ``obj.__getattribute__``, then ``__getitem__``) when it
    is a plain float array of that ``shape``, else None: the array a write goes into, so every
    object sharing it (a chapter-5 layer) sees the change. What the trusted side judged from a
    'get' of the array, judged here (same kinds, same size limit)."""
    np = worker.np
    try:
        current = worker.walk(obj, path)
        same = ((type(current) is np.ndarray and not current.dtype.names
                 and current.nbytes <= worker.wire.MAX_ARRAY_BYTES)
                or (isinstance(current, np.generic) and current.dtype.kind in "biufc")) \
            and current.dtype.kind == "f" and np.shape(current) == shape
    except worker.budget_exceeded:
        raise
    except BaseException:
        return None
    if not same:
        return None
    held = obj
    try:
        for depth, key in enumerate(path):
            held = (held.__getattribute__ if depth == 0 else held.__getitem__)(key)
    except worker.budget_exceeded:
        raise
    except BaseException:
        return None
    return held


def put(worker, obj, path: list, value) -> None:
    """``obj.path = value``: into the array already there (see :meth:`holder`), else replacing it."""
    held = holder(worker, obj, path, worker.np.shape(value))
    if held is not None:
        held.__setitem__((), value)
        return
    parent = worker.walk(obj, path[:-1])
    if isinstance(parent, dict):
        parent[path[-1]] = value
    else:
        setattr(parent, path[-1], value)


def descend(worker, request: dict) -> None:
    """Steps of gradient descent on a kept net, each answered by its own frame: the step's writes
    of the parameters and the call of its gradient method, run and answered exactly as the batch
    the trusted side would have sent for the step (``writes``: per key, a handle to the array to
    write into or None to replace it), then the next parameters, ``params - lr * grads``, from the
    gradients as the trusted side decodes them. The trusted side computes its own parameters
    from the same gradients, and judges only those: this saves a round trip a step, nothing else.
    Each frame says whether another follows (``more``); the loop ends at a failed step and at
    gradients the trusted side would refuse."""
    np = worker.np
    keys = [str(k) for k in request["keys"]]
    params = {k: worker.wire.decode(v) for k, v in zip(keys, request["params"])}
    writes = request["writes"]
    lr = float(request["lr"])
    steps = int(request["steps"])
    for step in range(steps):
        ops = [({"op": "call", "target": {"handle": int(held), "method": "__setitem__"},
                 "args": worker.wire.encode([(), params[k]]), "kwargs": {}, "seed": 0, "keep": False}
                if held is not None else
                {"op": "set", "target": {"handle": int(request["net"])}, "path": ["params", k],
                 "value": worker.wire.encode(params[k])}) for k, held in zip(keys, writes)]
        # Each step's calls have the descend request's CPU budget and clock limit.
        limits = {"budget": request.get("budget", 10.0), "wall": request.get("wall", request.get("budget", 10.0))}
        ops = [dict(op, **limits) for op in ops]
        ops.append(dict(request["call"], **limits))
        replies = []
        for sub in ops:
            replies.append(worker.op(sub))
            if not replies[-1]["ok"]:
                break
        grads = None
        if len(replies) == len(ops) and replies[-1]["ok"]:
            try:
                grads = worker.wire.decode(replies[-1].get("value"))
            except (ValueError, TypeError):
                grads = None
        usable = isinstance(grads, dict) and all(
            isinstance(grads.get(k), np.ndarray) and grads[k].shape == np.shape(params[k]) for k in keys)
        more = usable and step + 1 < steps
        worker.send({"ok": True, "value": None, "replies": replies, "more": more})
        if not more:
            return
        params = {k: params[k] - lr * (grads[k].astype(float) if grads[k].dtype.kind in "iub" else grads[k])
                  for k in keys}
