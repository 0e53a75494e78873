"""`grade --watch PATH`: grade PATH again each time it is saved, redrawing the terminal report.

Each grading is a `grade` of its own (a child process with the same command line, less
``--watch``): the same verdict as running it by hand, and nothing kept from one grading to the
next. Files are watched with watchfiles (grader/cli/watch.py's only user): it reads the
operating system's own notifications (inotify, FSEvents, ReadDirectoryChangesW), groups the
burst of events one save makes (an editor writes a temporary file and renames it) into one
change, and is a single call with no observer threads of ours to stop.

A stop (Ctrl-C, SIGTERM) ends the watch: the grading under way is stopped as `grade` is (it
removes its worker and folder) and waited for, so nothing is left running.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

from ..i18n import N_, _
from . import interrupts

WATCHING = N_("watching {path} for changes; Ctrl-C to stop")
NO_WATCHFILES = N_("grade --watch needs the watchfiles package: pip install watchfiles")
SUFFIXES = (".py", ".ipynb")
SKIPPED_FOLDERS = {".git", ".ipynb_checkpoints", "__pycache__", ".venv", "venv", "node_modules"}
STOP_SECONDS = 30.0  # how long a stopped grading may take to remove its worker before it is killed


def without_watch(argv: list[str]) -> list[str]:
    return [arg for arg in argv if arg != "--watch"]


def watched_path(argv: list[str]) -> str | None:
    """PATH of `grade --watch PATH ...`: the first argument that is no option nor an option's value."""
    from .arguments import build_parser
    from .main import SUBCOMMANDS

    args, _extra = build_parser(SUBCOMMANDS).parse_known_args(without_watch(argv))
    return str(args.path) if args.path is not None else None


def wanted(path: str, target: str, is_folder: bool) -> bool:
    """Does a change of ``path`` call for a new grading of ``target``?"""
    if not is_folder:
        return os.path.abspath(path) == target
    parts = os.path.relpath(path, target).split(os.sep)
    return path.endswith(SUFFIXES) and not any(p in SKIPPED_FOLDERS or p.startswith(".") for p in parts[:-1])


def watch(argv: list[str]) -> int:
    try:
        from watchfiles import watch as changes
    except ImportError:
        print(_(NO_WATCHFILES), file=sys.stderr)
        return 2
    path = watched_path(argv)
    if path is None:
        print(_("grade: error: {message}").format(message=_("give the submission to grade, e.g. `grade chapter4.py`")),
              file=sys.stderr)
        return 2
    target = os.path.abspath(path)
    if not os.path.exists(target):
        print(_("grade: error: {message}").format(message=_("{path}: no such file or folder").format(path=path)),
              file=sys.stderr)
        return 2
    is_folder = os.path.isdir(target)
    folder = target if is_folder else os.path.dirname(target)
    command = [sys.executable, "-m", "grader.cli", *without_watch(argv)]
    tty = _is_terminal()
    child: subprocess.Popen | None = None
    try:
        with interrupts.as_exceptions():
            # One watch for the whole session: a save made while a grading runs is seen after it.
            events = changes(folder, watch_filter=lambda _change, p: wanted(p, target, is_folder),
                             raise_interrupt=True, rust_timeout=200, yield_on_timeout=True)
            while True:
                if tty:
                    sys.stdout.write("\x1b[2J\x1b[H")  # the new report replaces the old one on the screen
                sys.stdout.flush()
                with interrupts.deferred():  # a stop waits until the grading has an owner that ends it
                    child = subprocess.Popen(command)
                child.wait()
                child = None
                said = False
                # An empty batch comes every rust_timeout: the first says the watch is on (a save
                # from then on is seen), so that is when the student is told.
                for batch in events:
                    if batch:
                        break
                    if not said:
                        print("\n" + _(WATCHING).format(path=path), file=sys.stderr, flush=True)
                        said = True
    except (interrupts.Interrupted, KeyboardInterrupt) as stop:
        return getattr(stop, "exit_code", 130)
    finally:
        if child is not None:
            _stop(child)
    return 0


def _stop(child: subprocess.Popen) -> None:
    """Stop a grading as Ctrl-C stops `grade` (it removes its worker), then wait for it to end."""
    if child.poll() is None:
        try:
            child.send_signal(signal.SIGINT)
            child.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
        except OSError:
            pass
    child.wait()


def _is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError, OSError):
        return False
