"""The HTML report, rendered by a process that loads jinja2 and Pygments while `grade` grades.

The HTML report needs jinja2 and Pygments (tens of milliseconds of imports and a first render).
Made by the grading process once grading is done, that time is added to every `grade -f html`;
imported in its waits for the worker, it mostly is too: the waits are a tenth of a millisecond
each, and an import cannot be cut into pieces that small (issue 13). (The terminal report needs
no such help: terminal_draw.py draws it without loading rich.)

So `grade` starts a render process right after its worker, at nice 19: it runs on whatever
core time the grading process and the worker leave idle, loads the renderers the command line
asks for, and once it knows the report's language and kind of output, warms them up on a small
report. At the end the grading process hands it the report (pickled: the grading process's own
data, never the student's) and gets the text back; where the text goes, and the exit status,
stay with the grading process.

A fresh interpreter (posix_spawn), not a fork: after a fork the kernel copies every page either
process then writes, which cost the grading 5 to 7 ms. Only on Linux, and only for the built-in
renderers (a plugin that replaces one renders in the grading process, as before). Anything that
goes wrong with the process (it cannot be started, it died, it answered nonsense) falls back to
rendering in the grading process, which gives the same text. DLFS_RENDER_PROCESS=off turns it off.
"""
from __future__ import annotations

import os
import sys
import time

# The built-in renderers a render process can make: format -> module (whose ``render`` it calls).
BUILT_IN = {"html": "grader.reporters.html"}
_HEADER_BYTES = 8
_NICE = "/usr/bin/nice"
# How long the grading process waits for the text. On a quiet machine it comes in 6 ms (30 when the
# process is still loading rich); at nice 19 on a machine busy with other work it may not come for
# seconds, and rendering here costs about 25 ms: past this, the grading process renders itself.
ANSWER_SECONDS = 0.25


class RenderError(Exception):
    """The renderer raised in the render process: ``detail`` is its type and message, as the grading
    process would have reported them had it rendered itself."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def formats_asked(argv: list[str]) -> list[str]:
    """The report formats a `grade` command line asks for (-f/--format, terminal by default), read
    before argparse is loaded; a command line argparse later refuses just ends the process unused."""
    formats = []
    for index, arg in enumerate(argv):
        if arg in ("-f", "--format") and index + 1 < len(argv):
            formats.append(argv[index + 1])
        elif arg.startswith("--format="):
            formats.append(arg.partition("=")[2])
        elif arg.startswith("-f") and not arg.startswith("--") and len(arg) > 2:
            formats.append(arg[2:])
    return formats or ["terminal"]


class RenderProcess:
    def __init__(self, pid: int, requests: int, answers: int, formats: tuple[str, ...]) -> None:
        self.pid, self.requests, self.answers, self.formats = pid, requests, answers, formats
        self.started = False
        self.broken = False

    @classmethod
    def spawn(cls, formats: list[str]) -> "RenderProcess | None":
        """A render process for the built-in formats among ``formats``, loading them at nice 19; None
        when none is needed or it cannot be started. It renders once :meth:`start` told it how."""
        chosen = tuple(dict.fromkeys(f for f in formats if f in BUILT_IN))
        if not chosen or not sys.platform.startswith("linux") or not hasattr(os, "posix_spawn") or \
                os.environ.get("DLFS_RENDER_PROCESS", "").lower() in ("off", "0", "no"):
            return None
        fds: list[int] = []
        try:
            requests_read, requests_write = os.pipe()
            fds += [requests_read, requests_write]
            answers_read, answers_write = os.pipe()
            fds += [answers_read, answers_write]
            devnull = os.open(os.devnull, os.O_RDWR)
            fds.append(devnull)
            if min(fds) <= 2:
                raise OSError("a pipe on a standard stream's number")
            package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            nice = os.access(_NICE, os.X_OK)  # from its first instruction on; else it lowers itself
            # This process's module path as it is (the grader's folder first): without the site
            # module (-S), the new interpreter is ready about 2 ms sooner.
            paths = [package] + [p for p in sys.path if p and p != package]
            code = ("import os, sys\n" + ("" if nice else "os.nice(19)\n") +
                    f"sys.path[:] = {paths!r}\nfrom grader.reporters.render_process import main\nmain()")
            command = [sys.executable, "-I", "-S", "-c", code, str(requests_read), str(answers_write), *chosen]
            if nice:
                command = [_NICE, "-n", "19", *command]
            for fd in (requests_read, answers_write):
                os.set_inheritable(fd, True)
            # Standard output stays this process's, for the terminal's size (the renderer asks it, as
            # it would here); the process writes nothing there, and nothing at all but its answers.
            actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 2)]
            pid = os.posix_spawn(command[0], command, dict(os.environ), file_actions=actions)
        except (OSError, ValueError, TypeError):
            for fd in fds:
                os.close(fd)
            return None
        for fd in (requests_read, answers_write, devnull):
            os.close(fd)
        return cls(pid, requests_write, answers_read, chosen)

    def start(self, lang: str, tty: bool) -> None:
        """Tell the process the report's language and kind of output, so that it warms its renderers up."""
        if self.started or self.broken:
            return
        self.started = True
        try:  # (plain text: pickle is not loaded yet, and loading it here would delay the grading)
            _send(self.requests, f"start {lang} {int(bool(tty))}".encode("ascii", "replace"))
        except OSError:
            self.broken = True

    def handles(self, format_name: str, renderer) -> bool:
        """Is ``renderer`` (what the plugins chose for the format) the built-in one this process makes?"""
        return not self.broken and self.started and format_name in self.formats and \
            getattr(renderer, "__module__", None) == BUILT_IN[format_name] and \
            getattr(renderer, "__name__", None) == "render"

    def render(self, format_name: str, report, tty: bool) -> str | None:
        """The format's text for the report, or None when the process could not give it (render in
        this process then). RenderError when the renderer itself raised."""
        try:
            _send(self.requests, _dumps(("render", format_name, report, tty)))
            answer = _receive(self.answers, time.monotonic() + ANSWER_SECONDS)
            text = answer[2:].decode("utf-8", "surrogatepass")
        except (OSError, EOFError, ValueError, TypeError, AttributeError, TimeoutError):
            self.close()  # dead, stuck or starved (nice 19 on a busy machine): this process renders
            return None
        if answer[:2] == b"er":
            raise RenderError(text)
        if answer[:2] != b"ok":
            self.broken = True
            return None
        return text

    def close(self) -> None:
        """End the process and reap it."""
        for fd in (self.requests, self.answers):
            try:
                os.close(fd)
            except OSError:
                pass
        self.requests = self.answers = -1
        self.broken = True
        try:
            os.kill(self.pid, 9)  # SIGKILL: it may still be loading, at the lowest priority
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def main() -> None:
    """The render process. ``argv``: its request and answer descriptors, then the formats. It ends when
    its requests end (the grading process closed them, or died: no other process holds them)."""
    requests, answers = int(sys.argv[1]), int(sys.argv[2])
    _defer_inspect()
    try:
        _serve(requests, answers, tuple(sys.argv[3:]))
    finally:
        os._exit(0)


def _defer_inspect() -> None:
    """The inspect module, loaded on its first use rather than on its import. dataclasses imports it
    (and with it tokenize, dis and ast, 4 ms of this process's 45) only to write a signature into
    classes that have no docstring, and the report's classes all have one; rendering never uses
    it. Where something does, the stand-in loads the real module then and passes everything on."""
    import types

    class Deferred(types.ModuleType):
        def __getattr__(self, name: str):
            sys.modules.pop("inspect", None)
            real = __import__("inspect")
            self.__dict__.update(real.__dict__)
            return getattr(real, name)

    if "inspect" not in sys.modules:
        sys.modules["inspect"] = Deferred("inspect")


def _serve(requests: int, answers: int, formats: tuple[str, ...]) -> None:
    import importlib
    import pickle
    import signal

    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)  # no KeyboardInterrupt traceback: a stop just ends it
    try:  # as the grading process: no other process of this user may read or write its memory
        import ctypes
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        return  # then it does not render at all: the grading process renders itself
    renderers = {}
    for name in formats:
        try:
            renderers[name] = importlib.import_module(BUILT_IN[name]).render
        except Exception:
            continue
        for module in getattr(renderers[name], "prepare", ()):
            try:
                importlib.import_module(module)
            except Exception:
                pass
    try:
        kind, lang, tty = _receive(requests).decode("ascii").split(" ")
    except (EOFError, OSError, ValueError):
        return
    if kind != "start":
        return
    import select
    if not select.select([requests], [], [], 0)[0]:  # not when the report is already waiting
        sample = _sample_report(lang)
        for renderer in renderers.values():  # warmed up: what a first render loads, compiles and caches
            try:
                renderer(sample, tty=tty == "1")
            except Exception:
                pass
    while True:
        try:
            kind, name, report, tty = pickle.loads(_receive(requests))
        except (EOFError, OSError, ValueError, pickle.PickleError, TypeError):
            return
        try:  # plain text back, never a pickle: the grading process unpickles nothing of this process's
            answer = b"ok" + renderers[name](report, tty=tty).encode("utf-8", "surrogatepass")
        except Exception as exc:
            answer = b"er" + f"{type(exc).__name__}: {exc}".encode("utf-8", "replace")
        _send(answers, answer)


def _sample_report(lang: str):
    """A small report with what a real one shows (a table, a failure with a hint, a named mistake,
    more failures than are listed, a statement that did not run), for the warm-up."""
    from ..report import CheckResult, Diagnosis, ExerciseResult, Report, SourceSnippet, Statement
    passed = CheckResult("warm-up", True, "f(1) returned 1 as expected.", 1, 1, "f(1)")
    failed = CheckResult("warm-up", False, "f(2) returned 3; expected 4: off by one.", 4, 3, "f(2)", "Add one.",
                         outcome="wrong")
    exercises = (ExerciseResult("warm_up", "Warm-up", "4.2.1", "passed", 1.0, 1.0, "f (line 1)", (passed,)),
                 ExerciseResult("warm_down", "Warm-down", "4.2.2", "failed", 0.0, 1.0, "g (line 2)", (failed,) * 6,
                                (Diagnosis("off-by-one", "Count again."),), "Graded `g`.",
                                (SourceSnippet("g (line 2)", "def g(x):\n    return x + 1\n", 2),)))
    return Report("warm-up.py", exercises, (Statement("line 3", "error", "NameError: name 'h' is not defined"),),
                  lang=lang, isolation="namespaces+seccomp")


def _dumps(value) -> bytes:
    import pickle
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _send(fd: int, data: bytes) -> None:
    view = memoryview(len(data).to_bytes(_HEADER_BYTES, "big") + data)
    while view:
        view = view[os.write(fd, view):]


def _receive(fd: int, deadline: float | None = None) -> bytes:
    size = int.from_bytes(_read_exactly(fd, _HEADER_BYTES, deadline), "big")
    return _read_exactly(fd, size, deadline)


def _read_exactly(fd: int, size: int, deadline: float | None = None) -> bytes:
    chunks, left = [], size
    while left:
        if deadline is not None:
            import select
            if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise TimeoutError("no answer in time")
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other end closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
