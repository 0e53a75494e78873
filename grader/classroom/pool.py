"""The parallel run: ``-j N`` pool processes, each grading one student at a time in its own slot.

The parent hands out students one by one, so it always knows who each process is grading:
a student past the total time limit (``--student-timeout``) has their process stopped and
replaced, and a process that dies costs only the student it was grading; both get a row
saying so (DESIGN.md principle 5). Pool processes are started with ``spawn`` (a clean
interpreter, never a fork of a process with threads) and write each result themselves the
moment it is finished.

Each slot has a private folder under a class temporary folder; a worker is told it may not
open SUBMISSIONS, OUTDIR or the other slots' folders.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Callable

from ..i18n import N_
from ..worker.cleanup import remove_stale_folders, remove_tree
from .grading import GradingOptions, Job, SlotGrader, write_failure
from .results import StudentResult

CLASS_TMP_PREFIX = "dlfs-class-"
STOP_GRACE_SECONDS = 3.0


@dataclass
class _Slot:
    index: int
    folder: Path
    process: multiprocessing.Process
    conn: Connection
    job: Job | None = None
    started: float = 0.0
    ready: bool = False


def slot_main(conn: Connection, options: GradingOptions, folder: Path, protect: tuple[str, ...],
              index: int = 0) -> None:
    """The body of a pool process: grade the students the parent sends until it sends None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    grader: SlotGrader | None = None

    def stop(signum, frame):  # the parent stops a student past their time: take the workers along
        if grader is not None:
            grader.close()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    grader = SlotGrader(options, folder, protect, slot=index)
    try:
        conn.send(("ready", None))
        while True:
            try:
                job = conn.recv()
            except EOFError:
                break
            if job is None:
                break
            conn.send(("done", grader.grade(job).summary()))  # the full report stays on disk
    finally:
        grader.close()


class ClassPool:
    def __init__(self, options: GradingOptions, processes: int, student_seconds: float) -> None:
        self.options = options
        self.processes = max(1, processes)
        self.student_seconds = student_seconds
        self.context = multiprocessing.get_context("spawn")
        remove_stale_tmp()
        tmp = Path(tempfile.gettempdir()).resolve()
        for guarded in (options.submissions.resolve(), options.outdir.resolve()):
            if tmp.is_relative_to(guarded):  # workers could not open their own files there
                raise ClassRunError(f"the temporary folder {tmp} is inside {guarded}: set TMPDIR to a folder "
                                    "outside SUBMISSIONS and OUTDIR")
        self.root = Path(tempfile.mkdtemp(prefix=f"{CLASS_TMP_PREFIX}{os.getpid()}-"))
        self.slots: list[_Slot] = []

    # ---- slots ----------------------------------------------------------------------------------
    def _protect(self, index: int, count: int) -> tuple[str, ...]:
        others = [str(self.root / str(i)) for i in range(count) if i != index]
        return (str(self.options.submissions.resolve()), str(self.options.outdir.resolve()), *others)

    def _start(self, index: int, count: int) -> _Slot:
        folder = self.root / str(index)
        remove_tree(folder)
        folder.mkdir()
        parent_end, child_end = self.context.Pipe()
        process = self.context.Process(target=slot_main, name=f"grade-class-{index}", daemon=True,
                                       args=(child_end, self.options, folder, self._protect(index, count), index))
        process.start()
        child_end.close()
        return _Slot(index, folder, process, parent_end)

    def _stop(self, slot: _Slot) -> None:
        if slot.process.is_alive():
            slot.process.terminate()  # SIGTERM: the process kills its workers, then exits
            slot.process.join(STOP_GRACE_SECONDS)
        if slot.process.is_alive():
            slot.process.kill()
            slot.process.join(STOP_GRACE_SECONDS)
        slot.conn.close()
        remove_tree(slot.folder)

    # ---- the run --------------------------------------------------------------------------------
    def run(self, jobs: list[Job], on_done: Callable[[StudentResult], None]) -> None:
        """Grade ``jobs``, calling ``on_done`` with each result as it comes (in the parent)."""
        queue = deque(jobs)
        count = min(self.processes, len(jobs))
        try:
            self.slots = [self._start(i, count) for i in range(count)]
            while self.slots:
                self._step(queue, on_done, count)
        finally:
            try:
                for slot in self.slots:
                    self._stop(slot)
            finally:  # even if a second Ctrl-C arrives while the slots stop
                self.slots = []
                remove_tree(self.root)

    def _step(self, queue: deque, on_done: Callable[[StudentResult], None], count: int) -> None:
        ready = wait([s.conn for s in self.slots] + [s.process.sentinel for s in self.slots], timeout=0.25)
        now = time.monotonic()
        for slot in list(self.slots):
            message = None
            if slot.conn in ready:
                try:
                    message = slot.conn.recv()
                except (EOFError, OSError):
                    message = None
            if message is not None:
                kind, payload = message
                if kind == "done":
                    slot.job = None
                    on_done(payload)
                slot.ready = True
                if queue:
                    slot.job, slot.started = queue.popleft(), now
                    slot.conn.send(slot.job)
                else:
                    self._finish(slot)
            elif not slot.process.is_alive():
                self._replace(slot, queue, on_done, count, "crash",
                              N_("the grading process for this student ended unexpectedly"))
            elif slot.job is not None and now - slot.started > self.student_seconds:
                self._replace(slot, queue, on_done, count, "timeout",
                              N_("grading took longer than {seconds:g} s in all and was stopped"))

    def _finish(self, slot: _Slot) -> None:
        try:
            slot.conn.send(None)
            slot.process.join(STOP_GRACE_SECONDS)
        except OSError:
            pass
        self._stop(slot)
        self.slots.remove(slot)

    def _replace(self, slot: _Slot, queue: deque, on_done: Callable[[StudentResult], None], count: int,
                 kind: str, message: str) -> None:
        job = slot.job
        self._stop(slot)
        self.slots.remove(slot)
        if job is not None:
            on_done(self._failed(job, kind, message, time.monotonic() - slot.started))
        elif not slot.ready:
            raise ClassRunError("a grading process could not start")
        if queue:
            self.slots.append(self._start(slot.index, count))

    def _failed(self, job: Job, kind: str, message: str, seconds: float) -> StudentResult:
        return write_failure(self.options, job, kind, message, seconds, seconds=self.student_seconds)


class ClassRunError(Exception):
    """The pool itself cannot work (a grading process that cannot even start)."""


def remove_stale_tmp() -> None:
    """Class folders left by a run that was killed (its process is gone): removed."""
    remove_stale_folders(CLASS_TMP_PREFIX)

