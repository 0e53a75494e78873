"""The warm grading process: `grade`, started before it is needed, for exactly one grading.

``%grade`` starts one of these when the extension loads and another after each grading. It
spawns its sandboxed worker and loads NumPy, the plugins and the exercise specs at once, then
waits for one request on standard input (one line of JSON), grades it with `grade`'s own entry
point (grader.cli.main.main, given the worker it already started), answers on standard output
and exits: no worker, and no state of one student's code, ever serves a second grading.

It ends with the kernel that started it: standard input closes when the kernel exits (read as
"no request"), and on Linux the kernel's death kills it at once (PR_SET_PDEATHSIG); the worker
dies with it the same way (grader/worker/confine.py, bwrap --die-with-parent).
"""
from __future__ import annotations

import io
import json
import os
import sys

# Tells the kernel this process is ready, before the request is read.
READY = "dlfs-grader warm ready"


def main() -> int:
    import signal

    from ..worker.confine import die_with_parent
    die_with_parent()
    # Stopped while it waits (the kernel stops a grading it no longer wants): the finally blocks
    # remove the worker. While it grades, `grade`'s own handlers do the same (cli/interrupts.py).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    from ..cli.main import SINGLE_THREADED_BLAS
    for name, value in SINGLE_THREADED_BLAS.items():
        os.environ.setdefault(name, value)
    from ..worker.early import EarlyWorker
    early = EarlyWorker()
    early.launch(["%grade"])
    try:
        _warm_up()
        _answer(READY)
        line = sys.stdin.readline()
        if not line.strip():  # the kernel is gone (or changed its mind): nothing to grade
            return 0
        try:
            request = json.loads(line)
        except ValueError:
            return 2
        _answer(json.dumps(serve(request, early), ensure_ascii=False))
        return 0
    finally:
        early.discard()


def _warm_up() -> None:
    """What every grading needs, loaded while the kernel waits for the student: the grader's
    modules, the built-in plugins and the exercise specs (with their random cases drawn)."""
    import grader.cli.main  # noqa: F401
    import grader.session  # noqa: F401
    from ..plugins import default_manager
    from ..specs.loading import load_exercises
    from . import plugin
    pm = default_manager()
    pm.register(plugin, "grader.notebook.plugin")
    load_exercises(pm)


def _answer(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def serve(request: dict, early) -> dict:
    """Grade what ``request`` names; the reply: ``html``, ``text``, ``report`` (as JSON has it),
    ``code`` (`grade`'s exit status) and ``stderr`` (what `grade` said there)."""
    import tempfile
    from pathlib import Path

    from .. import plugins
    from ..cli.main import main as grade_main
    from . import history, plugin
    from .view import Graded, not_graded

    workdir = Path(tempfile.mkdtemp(prefix="dlfs-grade-"))
    try:
        folder = Path(request.get("folder") or ".").resolve()
        if request.get("kind") == "history":
            entries = [history.HistoryEntry(int(c), str(s)) for c, s in request.get("cells", [])]
            label = str(request.get("label") or "notebook.ipynb")
            path = workdir / "history.ipynb"
            history.write_history(entries, path)
            history.ACTIVE[:] = [history.HistoryLoader(path, folder, label)]
            order = ""
            if request.get("notebook"):
                from .order import run_order, saved_cells
                order = run_order(entries, saved_cells(Path(request["notebook"])))
            graded = Graded("history", label, len(entries), order)
            # `grade` hands the submission over before the rest of the grader loads, with the
            # built-in loaders alone: the history's loader must be among them.
            plugins.HANDOVER_PLUGINS = (*plugins.HANDOVER_PLUGINS, "grader.notebook.plugin")
        else:
            path = (folder / str(request.get("path") or "")).resolve()
            graded = Graded("file", path.name)
        plugin.GRADED[:] = [graded]
        out = workdir / "view.json"
        argv = [str(path), "-f", "notebook", "-o", str(out)]
        for option in ("lang", "assignment", "save_inputs"):
            if request.get(option):
                argv += [f"--{option.replace('_', '-')}", str(request[option])]
        for name in request.get("plugin") or ():
            argv += ["--plugin", str(name)]
        if request.get("plugin"):
            argv += ["--plugin", "grader.notebook.plugin"]  # a plugin manager of their own has it too
        for exercise in request.get("only") or ():
            argv += ["--only", str(exercise)]
        said = io.StringIO()
        stderr, sys.stderr = sys.stderr, said
        try:
            code = grade_main(argv, early=early)
        finally:
            sys.stderr = stderr
        # Every line but the one saying where the view was written (the kernel shows the view itself).
        messages = "\n".join(line for line in said.getvalue().splitlines() if str(out) not in line)
        try:
            reply = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            html, text = not_graded(messages.strip() or f"grade exited with status {code}", graded,
                                    request.get("lang") or "en")
            reply = {"html": html, "text": text, "report": None}
        reply.update(code=code, stderr=messages)
        return reply
    finally:
        from ..worker.cleanup import remove_tree
        remove_tree(workdir)


if __name__ == "__main__":
    sys.exit(main())
