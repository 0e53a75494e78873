"""The sandboxed worker: runs the student's code and answers calls with plain data.

Started by :mod:`grader.worker.client` as ``python -I runner.py WIRE_PY`` in a private
temporary folder with an empty environment. It must never import the ``grader``
package (student code would then share a process with it), so it is a standalone
script that loads the wire codec by file path.

It never judges anything: it executes what it is asked and reports values,
exceptions and printed output. Every verdict is made by the trusted process.
"""
from __future__ import annotations

import ast
import builtins
import importlib.util
import io
import os
import random
import signal
import sys
import time
import traceback
import types

try:  # neither exists on Windows; macOS has no RLIMIT_NPROC enforcement worth the name
    import resource
except ImportError:
    resource = None
HAS_ALARM = hasattr(signal, "SIGALRM") and hasattr(signal, "setitimer")

SUBMISSION_MODULE = "__dlfs_submission__"
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


def _drop_privileges(uid: int, gid: int) -> None:
    """Become an unprivileged uid of this machine (bwrap ran as root, so the sandbox starts as root)."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("could not drop privileges")


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


class _DisplayPatcher:
    """After matplotlib.pyplot or PIL.Image is imported, make their show() do nothing.

    Grading has no screen: a viewer must never open, and Image.show() would start one.
    """

    PATCHES = {
        "matplotlib.pyplot": lambda m: setattr(m, "show", lambda *a, **k: None),
        "PIL.Image": lambda m: setattr(m.Image, "show", lambda self, *a, **k: None),
    }

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.PATCHES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                original, patch = spec.loader.exec_module, self.PATCHES[fullname]

                def exec_module(module, _original=original, _patch=patch):
                    _original(module)
                    _patch(module)

                spec.loader.exec_module = exec_module
                return spec
        return None


class _BookPackages:
    """A student's own ``common/`` or ``dataset/`` wins, and what it lacks comes from the book's.

    Students often copy only ``common/functions.py``; ``from common.gradient import
    numerical_gradient`` should still work, as it does beside the book's full folder.
    """

    def __init__(self, compat: list[str]) -> None:
        self.compat = compat

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in ("common", "dataset"):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                extra = [os.path.join(c, fullname) for c in self.compat]
                if spec.submodule_search_locations is not None:
                    spec.submodule_search_locations.extend(p for p in extra if os.path.isdir(p)
                                                           and p not in spec.submodule_search_locations)
                return spec
        return None


def _quiet_displays() -> None:
    sys.meta_path.insert(0, _DisplayPatcher())


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
        self.module = types.ModuleType(SUBMISSION_MODULE)
        self.namespace = self.module.__dict__
        self.versions: dict[str, list[object]] = {}
        self.handles: dict[int, object] = {}
        self.next_handle = 1
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
        if not HAS_ALARM:  # the trusted side's deadline still ends a call that runs too long
            return fn(*args, **kwargs)
        signal.setitimer(signal.ITIMER_REAL, budget)
        try:
            return fn(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    # ---- loading the submission ----------------------------------------
    def load(self, request: dict) -> dict:
        self.namespace.update({"__name__": SUBMISSION_MODULE, "__builtins__": builtins,
                               "__file__": request.get("file", "submission.py")})
        sys.modules[SUBMISSION_MODULE] = self.module
        # The student's own folders (for data and modules too big to copy), then the book's helpers.
        sys.path[1:1] = [p for p in request.get("paths", []) if p not in sys.path] + self.compat
        # Exercises from plugins keep their answer keys in their own folders: guard those too.
        self.protected.extend(os.path.realpath(p) for p in request.get("protect", []))
        skip = {(s[0], s[1]) for s in request.get("skip", [])}
        demo_left = float(request.get("demo_budget", 1.0))
        statements = []
        for cell in request["cells"]:
            filename = self.filename_prefix + str(cell["id"])
            try:
                tree = ast.parse(cell["source"], filename=filename)
            except SyntaxError as exc:
                statements.append({"cell": cell["id"], "index": 0, "line": exc.lineno or 0,
                                   "status": "syntax-error", "error": {"type": "SyntaxError",
                                   "message": str(exc.msg), "where": []}})
                continue
            plan = cell.get("plan") or []
            for index, node in enumerate(tree.body):
                record = {"cell": cell["id"], "index": index, "line": node.lineno}
                statements.append(record)
                category = plan[index] if index < len(plan) else "demo"
                if (cell["id"], index) in skip:
                    record["status"] = "skipped"
                    continue
                if category == "skip":
                    record["status"] = "skipped-training"
                    continue
                if category == "demo" and demo_left <= 0:
                    record["status"] = "skipped-budget"
                    continue
                # Progress first, so that if this statement kills the process the
                # trusted side knows which one to skip when it starts a new worker.
                self.send({"progress": [cell["id"], index]})
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    budget = request["import_budget"]
                elif category == "demo":
                    budget = min(request["demo_statement_budget"], demo_left)
                else:
                    budget = request["statement_budget"]
                code = compile(ast.Module(body=[node], type_ignores=[]), filename, "exec")
                started = time.monotonic()
                record.update(self.execute(code, budget))
                if category == "demo":
                    demo_left -= time.monotonic() - started
                self.record_versions(cell["id"], node.lineno)
        self.output.take()
        return {"ok": True, "statements": statements, "definitions": self.inventory()}

    def execute(self, code, budget: float) -> dict:
        sys.stdout = sys.stderr = self.output
        try:
            self.run_budgeted(budget, exec, code, self.namespace)
            return {"status": "ok"}
        except BudgetExceeded:
            return {"status": "abandoned"}
        except SystemExit as exc:
            return {"status": "error", "error": {"type": "SystemExit", "message": str(exc.code), "where": []}}
        except BaseException as exc:
            return {"status": "error", "error": self.error_info(exc)}
        finally:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__

    def record_versions(self, cell, line: int) -> None:
        for name, value in list(self.namespace.items()):
            if not isinstance(value, (types.FunctionType, type)):
                continue
            if getattr(value, "__module__", None) != SUBMISSION_MODULE:
                continue
            versions = self.versions.setdefault(name, [])
            if not any(v is value for v, _, _ in versions):
                versions.append((value, cell, line))

    def inventory(self) -> dict:
        written = []
        for name, versions in self.versions.items():
            for number, (value, cell, line) in enumerate(versions):
                written.append({"name": name, "version": number, "cell": cell, "line": line,
                                "kind": "class" if isinstance(value, type) else "function",
                                "current": self.namespace.get(name) is value})
        imported = []
        for name, value in self.namespace.items():
            if name.startswith("__") or not callable(value):
                continue
            module = getattr(value, "__module__", None)
            if module != SUBMISSION_MODULE and isinstance(module, str):
                imported.append({"name": name, "module": module})
        return {"written": written, "imported": imported[:500]}

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
            return getattr(obj, spec["method"]) if "method" in spec else obj
        return self.versions[spec["name"]][int(spec["version"])][0]

    def walk(self, obj, path: list):
        for key in path:
            obj = obj[key] if isinstance(obj, dict) else getattr(obj, key)
        return obj

    def op(self, request: dict) -> dict:
        kind = request["op"]
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
                return {"ok": True, "value": self.encode(self.walk(self.target(request["target"]), request["path"]))}
            if kind == "set":
                parent = self.walk(self.target(request["target"]), request["path"][:-1])
                key = request["path"][-1]
                value = self.wire.decode(request["value"], resolve=self.resolve)
                if isinstance(parent, dict):
                    parent[key] = value
                else:
                    setattr(parent, key, value)
                return {"ok": True, "value": None}
            if kind == "has":
                obj = self.target(request["target"])
                return {"ok": True, "value": [callable(getattr(obj, n, None)) for n in request["names"]]}
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

    def serve(self) -> None:
        while True:
            try:
                request = self.wire.read_message(self.proto_in)
            except EOFError:
                return
            if request.get("op") == "load":
                _unpack_files(request.pop("files", None) or {}, str(request.pop("cwd", "")))
                reply = self.load(request)
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


def _start() -> "Worker":
    global _saved_stderr, _ROOT, HAS_ALARM, resource
    import json
    config = json.loads(sys.argv[1])
    missing = set(config.get("missing", ()))
    if "resource" in missing:
        resource = None
    if "alarm" in missing:
        HAS_ALARM = False
    sys.argv = ["submission"]  # nothing about the grader's location is left in plain sight
    if config.get("drop_to"):
        _drop_privileges(*config["drop_to"])
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
    wire = _load_wire(config["wire"])  # imports numpy: before the memory limit, which it would trip
    workdir = _ROOT = os.getcwd()
    if HAS_ALARM:
        signal.signal(signal.SIGALRM, _on_alarm)
    limited = _set_limits(int(config["memory_mb"]) * 1024 * 1024, int(config["cpu_seconds"]), 64 * 1024 * 1024)
    # The kernel's filter first (it needs ctypes, which the audit hook then refuses), then the hook;
    # only then does a folder the student controls go on sys.path.
    seccomp = "not available on this platform" if "seccomp" in missing or not sys.platform.startswith("linux") \
        else syscall_filter.install()
    compat = [c for c in config["compat"] if c]
    guarded = guard.install(workdir, [p for p in config["protected"] if p], compat)
    # Only now may a folder the student controls go on sys.path (when the first load arrives).
    _quiet_displays()
    sys.meta_path.insert(0, _BookPackages(compat))
    worker = Worker(wire, proto_in, proto_out, filename_prefix="<submission cell ",
                    compat=compat, protected=guarded)
    worker.send({"ready": True, "isolation": {"seccomp": seccomp, "uid": os.getuid() if hasattr(os, "getuid") else -1,
                                              "pid": os.getpid(), "limits": limited, "alarm": HAS_ALARM}})
    return worker


if __name__ == "__main__":
    main()
