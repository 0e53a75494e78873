"""The sandboxed worker: runs the student's code and answers calls with plain data.

Started by :mod:`grader.worker.client` as ``python -I runner.py WIRE_PY`` in a private
temporary folder with an empty environment. It must never import the ``grader``
package (student code would then share a process with it), so it is a standalone
script that loads the wire codec by file path.

It never judges anything: it executes what it is asked and reports values,
exceptions and printed output. Every verdict is made by the trusted process.
"""
from __future__ import annotations

import importlib.util
import io
import os
import random
import signal
import sys
import traceback
import types

try:  # neither exists on Windows; macOS has no RLIMIT_NPROC enforcement worth the name
    import resource
except ImportError:
    resource = None
HAS_ALARM = hasattr(signal, "SIGALRM") and hasattr(signal, "setitimer")

OUTPUT_CAP = 4000


class BudgetExceeded(BaseException):
    """Raised by SIGALRM when a top-level statement or call runs past its budget.

    A BaseException so that a student's ``except Exception`` does not swallow it.
    """


class CappedOutput(io.TextIOBase):
    """Stands in for sys.stdout/sys.stderr: keeps the first OUTPUT_CAP characters, drops the rest."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        room = OUTPUT_CAP - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def take(self) -> str:
        out = "".join(self.parts)
        self.parts, self.size, self.dropped = [], 0, 0
        return out


def _load_by_path(name: str, path: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _load_wire(path: str) -> types.ModuleType:
    return _load_by_path("_dlfs_wire", path)


def _set_limits(memory_bytes: int, cpu_seconds: int, file_bytes: int) -> bool:
    if resource is None:
        return False
    for limit, value in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_CPU, cpu_seconds),
                         (resource.RLIMIT_FSIZE, file_bytes), (resource.RLIMIT_CORE, 0),
                         (resource.RLIMIT_NPROC, 0)):
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass  # e.g. a hard limit already lower than ours: keep the lower one
    return True


def _unpack_files(files: dict, cwd: str) -> None:
    """Write the copy of the student's files into the (fresh, private) working folder; enter ``cwd`` in it."""
    import base64
    root = os.path.realpath(_ROOT or os.getcwd())
    for name, data in files.items():
        target = os.path.realpath(os.path.join(root, name))
        if not target.startswith(root + os.sep):
            continue  # the trusted side sends relative names only; never write elsewhere
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(base64.b64decode(data))
    home = os.path.realpath(os.path.join(root, cwd))
    if home.startswith(root + os.sep):
        os.makedirs(home, exist_ok=True)
        os.chdir(home)
    if home not in sys.path:
        sys.path.insert(0, home if home.startswith(root + os.sep) else root)


_ROOT = ""  # the private folder the worker started in


def _on_alarm(signum, frame):
    raise BudgetExceeded()


class Worker:
    def __init__(self, wire: types.ModuleType, proto_in, proto_out, filename_prefix: str,
                 compat: list[str], protected: list[str]) -> None:
        self.compat = compat
        self.protected = protected
        self.wire = wire
        self.proto_in = proto_in
        self.proto_out = proto_out
        self.output = CappedOutput()
        self.module = types.ModuleType(loading.SUBMISSION_MODULE)
        self.namespace = self.module.__dict__
        self.versions: dict[str, list[object]] = {}
        self.handles: dict[int, object] = {}
        self.next_handle = 1
        self.chosen: str | None = None  # the name a call by several names used (net_ops.first_callable)
        self.budget_exceeded = BudgetExceeded  # for net_ops, which lets a budget's end through
        self.wall = 0.0  # the clock's limit of a call (run_budgeted); 0: the CPU budget's own
        if HAS_ALARM:
            signal.signal(signal.SIGPROF, _on_alarm)  # a call's CPU budget (run_budgeted)
        self.filename_prefix = filename_prefix
        import numpy
        self.np = numpy

    # ---- plumbing -------------------------------------------------------
    def send(self, message: dict) -> None:
        self.wire.write_message(self.proto_out, message)

    def describe(self, value) -> str:
        try:
            text = repr(value)
        except BaseException as exc:  # a hostile __repr__
            text = f"<unprintable: {type(exc).__name__}>"
        return text if len(text) <= 300 else text[:300] + "..."

    def encode(self, value):
        return self.wire.encode(value, describe=self.describe)

    def error_info(self, exc: BaseException) -> dict:
        frames = []
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename.startswith(self.filename_prefix):
                frames.append({"cell": frame.filename[len(self.filename_prefix):], "line": frame.lineno,
                               "function": frame.name, "code": (frame.line or "")[:200]})
        try:
            message = str(exc)
        except BaseException:
            message = ""
        return {"type": type(exc).__name__, "message": message[:500], "where": frames[-5:]}

    def run_budgeted(self, budget: float, fn, *args, **kwargs):
        """``fn`` under the current request's budget: ``budget`` seconds of this process's CPU time
        (SIGPROF), so that a busy machine does not change the verdict (DESIGN.md principle 6), and
        ``self.wall`` seconds of the clock (SIGALRM), which only code that sleeps or waits reaches."""
        if not HAS_ALARM:  # the trusted side's deadline still ends a call that runs too long
            return fn(*args, **kwargs)
        signal.setitimer(signal.ITIMER_PROF, budget)
        signal.setitimer(signal.ITIMER_REAL, max(budget, self.wall))
        try:
            return fn(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.setitimer(signal.ITIMER_REAL, 0)

    # ---- loading the submission (loading.py) ---------------------------
    def load(self, request: dict) -> dict:
        signal.signal(signal.SIGPROF, _on_alarm)  # a statement's CPU budget (loading.run_statement)
        return loading.load(self, request, student_imports)

    # ---- answering calls -------------------------------------------------
    def resolve(self, kind: str, data: dict):
        if kind == "handle":
            return self.handles[int(data["$handle"])]
        scope = {"np": self.np}
        for key, value in data["bind"]:
            scope[key] = self.wire.decode(value, resolve=self.resolve)
        return eval(data["$fn"], scope)  # grader-written source, never the student's

    def target(self, spec: dict):
        if "handle" in spec:
            obj = self.handles[int(spec["handle"])]
            if "method" not in spec:
                return obj
            method = spec["method"]
            if isinstance(method, list):  # the book's name, then the student's other names for it
                method = self.chosen = net_ops.first_callable(obj, method)
            return getattr(obj, method)
        return self.versions[spec["name"]][int(spec["version"])][0]

    def walk(self, obj, path: list):
        for key in path:
            obj = obj[key] if isinstance(obj, dict) else getattr(obj, key)
        return obj

    def op(self, request: dict) -> dict:
        self.chosen = None
        reply = self._op(request)
        if self.chosen is not None and request.get("op") == "call":
            reply["method"] = self.chosen  # which of several names a call used (also when it raised)
        return reply

    def _op(self, request: dict) -> dict:
        kind = request["op"]
        if "wall" in request:  # the clock's limit of this request's calls (a batch's steps share it)
            self.wall = float(request["wall"])
        seed = int(request.get("seed", 0))
        self.np.random.seed(seed)
        random.seed(seed)
        sys.stdout = sys.stderr = self.output
        try:
            if kind == "call":
                args = self.wire.decode(request.get("args", []), resolve=self.resolve)
                kwargs = self.wire.decode(request.get("kwargs", {}), resolve=self.resolve)
                fn = self.target(request["target"])
                value = self.run_budgeted(request.get("budget", 10.0), fn, *args, **kwargs)
                reply = {"ok": True}
                if request.get("keep"):
                    self.handles[self.next_handle] = value
                    reply["value"] = {"$handle": self.next_handle}
                    self.next_handle += 1
                else:
                    reply["value"] = self.encode(value)
                if request.get("return_args"):
                    reply["args"] = [self.encode(a) for a in args]
                return reply
            if kind == "get":
                value = self.walk(self.target(request["target"]), request["path"])
                probe = self.wire.shape_to_wire(value) if request.get("shape_only") else None
                return {"ok": True, "value": probe if probe is not None else self.encode(value)}
            if kind == "set":
                parent = self.walk(self.target(request["target"]), request["path"][:-1])
                key = request["path"][-1]
                value = self.wire.decode(request["value"], resolve=self.resolve)
                if isinstance(parent, dict):
                    parent[key] = value
                else:
                    setattr(parent, key, value)
                return {"ok": True, "value": None}
            if kind == "has":  # each name on its own: one whose lookup raises is absent, the others still count
                return {"ok": True, "value": net_ops.callables(self.target(request["target"]), list(request["names"]),
                                                               request.get("first") is True)}
            if kind == "put":
                value = self.wire.decode(request["value"], resolve=self.resolve)
                self.run_budgeted(request.get("budget", 10.0), net_ops.put, self, self.target(request["target"]),
                                  request["path"], value)
                return {"ok": True, "value": None}
            if kind == "hold":  # a handle to the array at path, if it is one of the given shape
                shape = tuple(int(n) for n in request["shape"])
                held = self.run_budgeted(request.get("budget", 10.0), net_ops.holder, self,
                                         self.target(request["target"]), request["path"], shape)
                if held is None:
                    return {"ok": True, "value": None}
                self.handles[self.next_handle] = held
                self.next_handle += 1
                return {"ok": True, "value": {"$handle": self.next_handle - 1}}
            if kind == "batch":
                replies = []
                for sub in request["ops"]:
                    replies.append(self.op(sub))
                    if not replies[-1]["ok"] and request.get("stop_on_error", True):
                        break
                return {"ok": True, "value": None, "replies": replies}
            return {"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {kind}", "where": []}}
        except BudgetExceeded:
            return {"ok": False, "timeout": True, "error": {"type": "Timeout", "message": "", "where": []}}
        except BaseException as exc:
            return {"ok": False, "error": self.error_info(exc)}
        finally:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
            output = self.output.take()
            if output and kind != "batch":
                request["_output"] = output

    def stream(self, ops: list, stop_on_error: bool = False) -> None:
        """Several calls in one request, each answered by its own frame as soon as it returns: the
        trusted side reads them one by one, each within its own time limit, so a call that hangs
        or kills the process costs that call alone, as if it had been sent by itself. Stops after
        a call that ran out of its budget, as the trusted side then does, and with ``stop_on_error``
        after any step that failed (the trusted side stops reading there too)."""
        for sub in ops:
            reply = self.op(sub)
            if "_output" in sub:
                reply["output"] = sub["_output"]
            self.send(reply)
            if reply.get("timeout") or (stop_on_error and not reply.get("ok")):
                return

    def serve(self) -> None:
        while True:
            try:
                request = self.wire.read_message(self.proto_in)
            except EOFError:
                return
            if request.get("op") == "load":
                _unpack_files(request.pop("files", None) or {}, str(request.pop("cwd", "")))
                reply = self.load(request)
            elif request.get("op") == "stream":
                self.stream(request["ops"], request.get("stop_on_error") is True)
                continue
            elif request.get("op") == "descend":
                try:
                    net_ops.descend(self, request)
                except Exception as exc:  # a malformed request: one frame that says so, and no more
                    self.send({"ok": False, "error": self.error_info(exc)})
                continue
            else:
                reply = self.op(request)
                if "_output" in request:
                    reply["output"] = request["_output"]
            self.send(reply)


def main() -> None:
    try:
        worker = _start()
    except BaseException as exc:  # before any student code: tell the trusted side why, on stderr
        os.write(_saved_stderr or 2, f"worker startup failed: {type(exc).__name__}: {exc}\n".encode(errors="replace"))
        raise SystemExit(1)
    os.close(_saved_stderr)
    worker.serve()


_saved_stderr = 0
student_imports: types.ModuleType  # student_imports.py, loaded by path in _start()
net_ops: types.ModuleType  # net_ops.py, loaded by path in _start()
loading: types.ModuleType  # loading.py, loaded by path in _start()


def _start() -> "Worker":
    global _saved_stderr, _ROOT, HAS_ALARM, resource, student_imports, net_ops, loading
    import gc
    import json
    # No garbage collection while the worker loads NumPy and itself (40 passes, about 3 ms, over
    # objects that live as long as the process): they are frozen out of every later collection,
    # and the student's code runs with the collector on and its usual thresholds.
    gc.disable()
    config = json.loads(sys.argv[1])
    missing = set(config.get("missing", ()))
    if "resource" in missing:
        resource = None
    if "alarm" in missing:
        HAS_ALARM = False
    sys.argv = ["submission"]  # nothing about the grader's location is left in plain sight
    # The first file read: the grader's own, while the worker may still be root. Then it drops to its
    # uid before it reads anything else (grader/worker/confine.py).
    confine = _load_by_path("_dlfs_confine", config["confine"])
    if config.get("drop_to"):
        confine.drop_privileges(*config["drop_to"])
    confine.die_with_parent()  # after the uid change, which would clear it
    plain = config.get("landlock") is not None  # no namespaces: the host's filesystem, processes and uids
    if plain:
        confine.not_dumpable()
    # Keep the protocol on private descriptors; the student's prints go to a capped buffer
    # and anything written to fd 1/2 directly goes nowhere.
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb")
    _saved_stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    guard = _load_by_path("_dlfs_guard", config["guard"])
    syscall_filter = _load_by_path("_dlfs_syscall_filter", config["filter"])
    student_imports = _load_by_path("_dlfs_student_imports", config["student_imports"])
    net_ops = _load_by_path("_dlfs_net_ops", config["net_ops"])
    loading = _load_by_path("_dlfs_loading", config["loading"])
    wire = _load_wire(config["wire"])  # imports numpy: before the memory limit, which it would trip
    # Every call seeds NumPy's global generator (Worker.op), and nearly every submission draws from
    # it: importing numpy.random (about 13 ms, OpenSSL through `secrets`) before saying "ready" puts
    # that time where the grading process is still loading itself, not into the student's load.
    import numpy.random  # noqa: F401
    workdir = _ROOT = os.getcwd()
    if HAS_ALARM:
        signal.signal(signal.SIGALRM, _on_alarm)
    limited = _set_limits(int(config["memory_mb"]) * 1024 * 1024, int(config["cpu_seconds"]), 64 * 1024 * 1024)
    # The kernel's filter first (it needs ctypes, which the audit hook then refuses), then the hook;
    # only then does a folder the student controls go on sys.path.
    seccomp = "not available on this platform" if "seccomp" in missing or not sys.platform.startswith("linux") \
        else syscall_filter.install(unix_sockets=not plain)
    # Then Landlock (it needs the no_new_privs the filter set): the files a plain worker may open.
    landlock = "not needed: the sandbox's namespaces hold its view" if not plain else \
        "not available on this platform" if "landlock" in missing or not sys.platform.startswith("linux") \
        else confine.restrict_files(config["landlock"])
    compat = [c for c in config["compat"] if c]
    guarded = guard.install(workdir, [p for p in config["protected"] if p], compat)
    # Only now may a folder the student controls go on sys.path (when the first load arrives).
    sys.meta_path.insert(0, student_imports._BookPackages(compat))
    worker = Worker(wire, proto_in, proto_out, filename_prefix="<submission cell ",
                    compat=compat, protected=guarded)
    gc.freeze()
    gc.enable()
    worker.send({"ready": True, "isolation": {"seccomp": seccomp, "uid": os.getuid() if hasattr(os, "getuid") else -1,
                                              "pid": os.getpid(), "limits": limited, "alarm": HAS_ALARM,
                                              "landlock": landlock, "dropped": bool(config.get("drop_to"))}})
    return worker


if __name__ == "__main__":
    main()
