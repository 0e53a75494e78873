"""``%grade``: the magic, and the warm grading process it keeps ready (the kernel's side).

The kernel does as little as it can: it reads the code it ran (its input history, never a value
it holds), sends it to a warm grading process (grader/notebook/warm.py) and shows the view that
process rendered. The student's code runs again only in that process's sandboxed worker, so
nothing patched in the kernel (``builtins``, ``numpy``) takes part in the grading.
"""
from __future__ import annotations

import atexit
import json
import os
import shlex
import subprocess
import sys
import threading
from pathlib import Path

from ..i18n import N_, _

USAGE = ("%grade [EXERCISE ...] [--file [PATH]] [--lang LANG] [--assignment NAME] [--plugin MODULE] "
         "[--save-inputs DIR]")
NO_PATH = N_("%grade --file: this notebook's path is not known here; give it: %grade --file chapter4.ipynb")
REPORT_MIME = "application/vnd.dlfs-grader.report+json"
ENDED = N_("%grade: the grading process ended without a report; run %grade again, or `grade` on the saved file.")
STOPPED = N_("%grade was interrupted: nothing was graded.")


class WarmProcess:
    """One warm grading process: started now, used for one grading, then gone."""

    def __init__(self) -> None:
        package = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package, env.get("PYTHONPATH", "")) if p)
        env.pop("PYTHONSTARTUP", None)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        # The plain-text view is plain (a kernel sets FORCE_COLOR for its own output's colours).
        env.pop("FORCE_COLOR", None)
        env["NO_COLOR"] = "1"
        # -P: the kernel's folder (the student's, maybe with a json.py or numpy.py of their own) is
        # not put on the grading process's module path; it runs from the filesystem root.
        # A session of its own: interrupting the kernel (Jupyter signals the kernel's process group)
        # stops the student's cell, not the process waiting for the next %grade. It still ends with
        # the kernel: standard input closes, and on Linux the kernel's death kills it (warm.py).
        self.process = subprocess.Popen([sys.executable, "-P", "-m", "grader.notebook.warm"], cwd=os.sep, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True, encoding="utf-8", start_new_session=True)

        self.ready = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self) -> bool:
        """Wait until the process has its worker and the grader loaded (False: it ended instead)."""
        if not self.ready:
            try:
                self.ready = bool(self.process.stdout.readline().strip())
            except (OSError, ValueError):
                return False
        return self.ready

    def grade(self, request: dict) -> dict | None:
        """The reply to ``request``, or None when the process ended without one."""
        stdout = self.process.stdout
        try:
            if not self.wait_ready():
                return None
            self.process.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
            self.process.stdin.flush()
            line = stdout.readline()
        except (OSError, ValueError):
            return None
        finally:
            self.close()
        try:
            reply = json.loads(line)
        except ValueError:
            return None
        return reply if isinstance(reply, dict) else None

    def stop(self) -> None:
        """Stop a grading under way as `grade` is stopped (it removes its worker and folder first)."""
        try:
            self.process.terminate()
        except OSError:
            pass
        self.close()

    def close(self, wait: float = 10.0) -> None:
        """End the process: a closed standard input asks it to end; then it is made to."""
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except (OSError, ValueError):
                pass
        try:
            self.process.wait(wait)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Grader:
    """The extension's state in one kernel: the warm process waiting for the next ``%grade``."""

    def __init__(self, shell) -> None:
        self.shell = shell
        self.lock = threading.Lock()
        self.warm: WarmProcess | None = WarmProcess()
        atexit.register(self.shutdown)

    def shutdown(self) -> None:
        with self.lock:
            warm, self.warm = self.warm, None
        if warm is not None:
            warm.close(wait=5.0)

    def wait_ready(self) -> bool:
        """Wait until the next grading's process is warm (the benchmark times a warm `%grade`)."""
        with self.lock:
            warm = self.warm
        return warm is not None and warm.wait_ready()

    def take(self) -> WarmProcess:
        """The warm process for this grading (a new one if there is none)."""
        with self.lock:
            warm, self.warm = self.warm, None
        return warm if warm is not None else WarmProcess()

    def replace(self) -> None:
        """The next grading's process, started once this one is done (not during it: on two cores
        its start would slow the grading the student waits for)."""
        with self.lock:
            if self.warm is None:
                self.warm = WarmProcess()

    def grade(self, line: str) -> None:
        request = self.request(line)
        if request is None:
            return
        warm = self.take()
        try:
            reply = warm.grade(request)
            if reply is None:  # it died before answering (killed, out of memory): a fresh one tries once
                warm = self.take()
                reply = warm.grade(request)
        except KeyboardInterrupt:
            warm.stop()
            print(_(STOPPED), file=sys.stderr)
            return
        finally:
            self.replace()
        if reply is None:
            print(_(ENDED), file=sys.stderr)
            return
        if reply.get("stderr"):
            print(reply["stderr"], file=sys.stderr)
        self.show(reply)

    def show(self, reply: dict) -> None:
        from IPython.display import display
        bundle = {"text/html": reply.get("html", ""), "text/plain": reply.get("text", "")}
        if reply.get("report") is not None:  # the report's data, as `grade -f json` writes it, for tools
            bundle[REPORT_MIME] = reply["report"]
        display(bundle, raw=True)

    def request(self, line: str) -> dict | None:
        """What ``%grade LINE`` asks for, or None after saying what is wrong with it."""
        import argparse

        parser = argparse.ArgumentParser(prog="%grade", usage=USAGE, add_help=False, exit_on_error=False)
        parser.add_argument("exercises", nargs="*")
        parser.add_argument("--file", nargs="?", const="", default=None)
        parser.add_argument("--lang")
        parser.add_argument("--assignment")
        parser.add_argument("--plugin", action="append", default=[])
        parser.add_argument("--save-inputs")
        try:
            args, extra = parser.parse_known_args(shlex.split(line))
        except (argparse.ArgumentError, ValueError) as exc:
            print(f"%grade: {exc}\nusage: {USAGE}", file=sys.stderr)
            return None
        if extra:
            print(f"%grade: unrecognized arguments: {' '.join(extra)}\nusage: {USAGE}", file=sys.stderr)
            return None
        request = {"folder": os.getcwd(), "only": args.exercises, "lang": args.lang, "assignment": args.assignment,
                   "plugin": args.plugin,
                   "save_inputs": str(Path(args.save_inputs).expanduser().resolve()) if args.save_inputs else None}
        notebook = notebook_path(self.shell)
        if args.file is not None:
            path = args.file or notebook
            if not path:
                print(_(NO_PATH), file=sys.stderr)
                return None
            request.update(kind="file", path=str(Path(path).expanduser().resolve()))
        else:
            request.update(kind="history", cells=self.history(), notebook=notebook,
                           label=Path(notebook).name if notebook else "notebook.ipynb")
        return request

    def history(self) -> list[tuple[int, str]]:
        """(execution count, code as typed) of every input run before this one, in the order they ran."""
        raw = list(self.shell.history_manager.input_hist_raw)
        current = self.shell.execution_count
        return [(number, source) for number, source in enumerate(raw) if 0 < number < current and source.strip()]


def notebook_path(shell) -> str:
    """The notebook's file, where the front end says it: Jupyter Server (JupyterLab, Notebook 7) sets
    JPY_SESSION_NAME, VS Code sets ``__vsc_ipynb_file__``; "" elsewhere."""
    for candidate in (os.environ.get("JPY_SESSION_NAME", ""), shell.user_ns.get("__vsc_ipynb_file__", ""),
                      shell.user_ns.get("__session__", "")):
        if isinstance(candidate, str) and candidate.endswith(".ipynb"):
            path = Path(candidate)
            if not path.is_absolute():
                path = Path(os.getcwd()) / path
            if path.is_file():
                return str(path)
    return ""


def load(shell) -> Grader:
    grader = Grader(shell)
    shell.register_magic_function(grader.grade, magic_kind="line", magic_name="grade")
    shell._dlfs_grader = grader
    return grader


def unload(shell) -> None:
    grader = getattr(shell, "_dlfs_grader", None)
    if grader is not None:
        grader.shutdown()
        atexit.unregister(grader.shutdown)
