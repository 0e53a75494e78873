"""The worker spawned before `grade` parses its arguments.

A grading's critical path starts with the worker: a Python and NumPy of its own, in the sandbox.
Spawned first thing, it imports NumPy while the grading process parses the arguments and loads
the grader, on the other core. Until a WorkerClient takes it over, whoever started it removes it
(a usage error, --help, a listing).
"""
from __future__ import annotations

import os

from ..cli import interrupts

TYPE_CHECKING = False  # typing itself costs the worker's start 2 ms
if TYPE_CHECKING:
    from pathlib import Path

# Arguments after which `grade` grades nothing: no worker is started early for them.
NOT_GRADING = ("-h", "--help", "--version", "--list-exercises", "--list-assignments", "--list-plugins", "--doctor")


class EarlyWorker:
    """A spawned worker process (and its host folder, without the sandbox) not yet owned by a WorkerClient."""

    def __init__(self, workdir: Path | None = None, process=None) -> None:
        self.workdir, self.process = workdir, process

    def launch(self, argv: list[str]) -> None:
        """Spawn the worker unless ``argv`` grades nothing. What is made is this object's at once
        (its folder, then its process), so that a stop signal arriving meanwhile, raised when the
        deferred block ends, leaves the caller's ``discard`` something to remove, never an orphan."""
        if not argv or any(arg in NOT_GRADING for arg in argv):
            return
        # A stop signal waits until the worker has an owner that will remove it.
        with interrupts.deferred():
            from . import isolation, spawn
            sandbox = isolation.bwrap_unavailable_reason() == ""
            self.workdir = None if sandbox else spawn.new_workdir()  # a sandboxed worker has a tmpfs of its own
            try:
                self.process = spawn.spawn(self.workdir or os.sep, spawn.DEFAULT_MEMORY_MB,
                                           spawn.DEFAULT_CPU_SECONDS, sandbox=sandbox)
            except OSError:  # not startable here: the WorkerClient tries again and reports why
                self.process = None
            # After the spawn (ctypes costs 1.5 ms): the worker runs no student code before its load.
            not_dumpable()

    def take(self) -> tuple[Path | None, object] | None:
        """The (workdir, process) pair for a WorkerClient, which owns it from now on."""
        taken = (self.workdir, self.process) if self.process is not None else None
        if taken is None:
            self.discard()
        self.workdir = self.process = None
        return taken

    def discard(self) -> None:
        """Kill the worker's whole tree (the sandbox's too) and remove its folder."""
        if self.process is None and self.workdir is None:
            return
        with interrupts.deferred():
            if self.process is not None:
                from .tree import ProcessTree
                ProcessTree(self.process).kill()
            if self.workdir is not None:
                from .cleanup import remove_tree
                remove_tree(self.workdir)
        self.workdir = self.process = None


def not_dumpable() -> None:
    """No core dumps of the grader, and no same-uid process may read its memory through /proc."""
    from .spawn import not_dumpable as once
    once()
