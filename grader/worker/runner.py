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
import resource
import signal
import sys
import time
import traceback
import types

SUBMISSION_MODULE = "__dlfs_submission__"
# The answer key and the specs are grader._reference and grader._exercises: a student's own
# reference.py or exercises.py is theirs to import.
BLOCKED_IMPORTS = frozenset({"grader"})
# Loaded once, disarmed, then never loaded again: its fork_exec starts processes without
# any audit event, and a fresh copy (after deleting it from sys.modules) would be armed.
DISARMED = "_posixsubprocess"
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


def _load_wire(path: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("_dlfs_wire", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["_dlfs_wire"] = module
    spec.loader.exec_module(module)
    return module


def _install_guards(workdir: str, protected: list[str], allowed: list[str]) -> list[str]:
    """An audit hook (which, unlike a meta-path finder, student code cannot remove).

    ``protected`` folders (the grader, the answer key, the exercise specs) cannot even be
    read: ``importlib.import_module`` and ``spec_from_file_location`` bypass the import
    event, but every way of loading code opens its file, and that is audited. ``allowed``
    are exceptions inside them (the book's helper modules).
    """
    workdir = os.path.realpath(workdir)
    protected = [os.path.realpath(p) for p in protected]
    allowed = [os.path.realpath(p) for p in allowed]
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    refused = {
        "os.system", "subprocess.Popen", "os.fork", "os.forkpty", "os.exec", "os.posix_spawn",
        "os.spawn", "os.kill", "os.killpg", "socket.connect", "socket.bind", "socket.sendto",
        "resource.setrlimit", "resource.prlimit", "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata",
        "sys.remote_exec", "pty.spawn",
    }
    path_events = {"os.remove", "os.rename", "os.rmdir", "shutil.rmtree", "os.truncate", "os.chmod",
                   "os.chown", "os.link", "os.symlink", "os.mkdir", "shutil.move", "shutil.copyfile"}

    def within(real: str, folder: str) -> bool:
        return real == folder or real.startswith(folder + os.sep)

    def resolve(path) -> str | None:
        try:
            return os.path.realpath(os.fsdecode(path))
        except Exception:
            return None

    def inside(path) -> bool:
        real = resolve(path)
        return real is not None and within(real, workdir)

    def hook(event: str, args: tuple) -> None:
        if event == "import":
            if args and str(args[0]).partition(".")[0] in BLOCKED_IMPORTS:
                raise ImportError(f"the grader's own modules cannot be imported by a submission ({args[0]})")
            if args and args[0] == DISARMED:
                raise ImportError(f"{DISARMED} cannot be loaded again while grading")
        elif event in refused:
            raise PermissionError(f"not allowed while grading: {event}")
        elif event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            if not isinstance(path, (str, bytes)):
                return
            real = resolve(path)
            if real is not None and any(within(real, p) for p in protected) and not any(within(real, a) for a in allowed):
                raise PermissionError("the grader's own files cannot be read by a submission")
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & write_flags)
            if writing and not inside(path):
                raise PermissionError(f"writing outside the grading folder is not allowed: {path!r}")
            # A descriptor of an outside folder would let os.open(..., dir_fd=fd) write
            # beyond it (the event only shows the relative name): refuse such descriptors.
            if mode is None and not inside(path) and os.path.isdir(path):
                raise PermissionError(f"opening folders outside the grading folder is not allowed: {path!r}")
        elif event in path_events:
            for path in args:
                if isinstance(path, (str, bytes, os.PathLike)) and not inside(path):
                    raise PermissionError(f"not allowed outside the grading folder: {event}")

    import _posixsubprocess

    def refuse_process(*args, **kwargs):
        raise PermissionError("not allowed while grading: starting a process")

    _posixsubprocess.fork_exec = refuse_process
    sys.addaudithook(hook)
    return protected  # the hook reads this list: folders added later are protected too
    for name in list(sys.modules):
        if name.partition(".")[0] in BLOCKED_IMPORTS:
            del sys.modules[name]


def _set_limits(memory_bytes: int, cpu_seconds: int, file_bytes: int) -> None:
    for limit, value in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_CPU, cpu_seconds),
                         (resource.RLIMIT_FSIZE, file_bytes), (resource.RLIMIT_CORE, 0),
                         (resource.RLIMIT_NPROC, 0)):
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass  # e.g. a hard limit already lower than ours: keep the lower one


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

    def run_budgeted(self, budget: float, fn, *args):
        signal.setitimer(signal.ITIMER_REAL, budget)
        try:
            return fn(*args)
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
                reply = self.load(request)
            else:
                reply = self.op(request)
                if "_output" in request:
                    reply["output"] = request["_output"]
            self.send(reply)


def main() -> None:
    wire_path, memory_mb, cpu_seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    protected, allowed = sys.argv[4].split(os.pathsep), sys.argv[5].split(os.pathsep)
    sys.argv = ["submission"]  # nothing about the grader's location is left in plain sight
    # Keep the protocol on private descriptors; the student's prints go to a capped buffer
    # and anything written to fd 1/2 directly goes nowhere.
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    wire = _load_wire(wire_path)  # imports numpy: before the memory limit, which it would trip
    workdir = os.getcwd()
    sys.path[:0] = [workdir]
    signal.signal(signal.SIGALRM, _on_alarm)
    _set_limits(memory_mb * 1024 * 1024, cpu_seconds, 64 * 1024 * 1024)
    guarded = _install_guards(workdir, [p for p in protected if p], [a for a in allowed if a])
    _quiet_displays()
    sys.meta_path.insert(0, _BookPackages([a for a in allowed if a]))
    worker = Worker(wire, proto_in, proto_out, filename_prefix="<submission cell ",
                    compat=[a for a in allowed if a], protected=guarded)
    worker.send({"ready": True})
    worker.serve()


if __name__ == "__main__":
    main()
