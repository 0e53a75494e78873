"""What runs on a Dask worker: the version probe, and grading one student from their parcel.

A Dask worker grades exactly as a local pool process does: a :class:`~.grading.SlotGrader`
stages the student's files into the private folder of a sandboxed worker process
(:class:`grader.worker.client.WorkerClient`) and calls :func:`grader.session.grade`; student
code never runs in the Dask worker's own process. The result travels back as plain data (the
record of :func:`.results.write_record` and the rendered report texts); the driver writes them.

Each Dask worker process keeps one grader per task thread, in a thread of its own that lives
as long as the process: the sandbox is started with ``--die-with-parent``, which ties it to the
*thread* that started it, and Dask's own task threads may come and go.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..i18n import use
from .grading import GradingOptions, Job, SlotGrader, error_page
from .parcel import Parcel, unpack
from .results import StudentResult

REMOTE_TMP_PREFIX = "dlfs-dask-"


class GraderMismatch(Exception):
    """This Dask worker's grader or exercises differ from the driver's: it must not grade this class."""


def probe(options: GradingOptions, fingerprint_options: dict[str, Any], secret: str | None = None) -> dict[str, Any]:
    """What decides a result on this worker: the grader's version, the exercises and their points,
    and the fingerprint of the grader's code and specs (the same one content hashes are built from).
    ``secret``: the driver's secret, carried with the tasks (one made in OUTDIR), else this host's."""
    from ..specs.instructor_secret import task_secret

    with task_secret(secret):
        return _probe(options, fingerprint_options)


def _probe(options: GradingOptions, fingerprint_options: dict[str, Any]) -> dict[str, Any]:
    import grader

    try:
        from ..plugins import make_manager
        from ..specs.instructor_secret import secret_fingerprint
        from .grading import class_exercises
        from .hashing import grader_fingerprint, plugin_files

        pm = make_manager(extra=options.plugins, exercise_dirs=options.exercise_dirs,
                          entry_points=options.entry_points)
        _assignment, exercises = class_exercises(pm, options)
        folders = [Path(d) for impl in pm.hook.grader_exercise_dirs.get_hookimpls() for d in impl.function() or ()]
        # The random cases are salted with this host's instructor secret: it must be the driver's.
        mine = dict(fingerprint_options, secret=secret_fingerprint())
        error = "" if mine.get("secret") == fingerprint_options.get("secret") else (
            "its instructor's secret (DLFS_GRADER_SECRET) differs from the driver's: set the same one on every worker")
        return {"version": grader.__version__, "exercises": [[e.id, e.points] for e in exercises],
                "fingerprint": grader_fingerprint(folders, mine, plugin_files(pm)), "error": error}
    except Exception as exc:  # a missing plugin or spec folder on this host: said, not raised
        return {"version": grader.__version__, "exercises": [], "fingerprint": "",
                "error": f"{type(exc).__name__}: {exc}"}


class _RemoteGrader(SlotGrader):
    """Writes nothing: OUTDIR is on the driver's machine, which writes what the task returns."""

    def _write(self, result: StudentResult) -> None:
        pass


class _Lane:
    """One grader with its own folders, used by one long-lived thread."""

    def __init__(self, options: GradingOptions, fingerprint: str) -> None:
        self.base = Path(tempfile.mkdtemp(prefix=f"{REMOTE_TMP_PREFIX}{os.getpid()}-"))
        self.inbox = self.base / "in"  # the student's files as handed in: the worker may not open them
        (self.base / "slot").mkdir()
        self.options, self.fingerprint = options, fingerprint
        self.grader = _RemoteGrader(options, self.base / "slot", (str(self.inbox),))
        self.fingerprints: dict[tuple[str, str | None], str] = {}  # (options, carried secret) -> this host's

    def close(self) -> None:
        self.grader.close()
        shutil.rmtree(self.base, ignore_errors=True)


_lanes = threading.local()
_all_lanes: list[_Lane] = []
_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _lane_executor() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            threads = 1
            try:
                from distributed import get_worker

                threads = max(1, get_worker().state.nthreads)
            except (ImportError, ValueError, AttributeError):
                pass
            _executor = ThreadPoolExecutor(threads, thread_name_prefix="dlfs-grade")
            atexit.register(_close_all)
        return _executor


def _close_all() -> None:
    for lane in list(_all_lanes):
        lane.close()
    _all_lanes.clear()


def grade_parcel(parcel: Parcel, job_hash: str, options: GradingOptions, fingerprint: str,
                 fingerprint_options: dict[str, Any], student_seconds: float,
                 secret: str | None = None) -> dict[str, Any]:
    """The Dask task: grade one student; ``{"record": ..., "reports": {format: text}}``. ``secret``:
    the driver's, when it made one in OUTDIR (used for this task only), else None (this host's)."""
    from ..specs.instructor_secret import task_secret

    def in_lane() -> dict[str, Any]:
        with task_secret(secret):  # set in the lane's own thread, for this task alone
            return _grade_in_lane(parcel, job_hash, options, fingerprint, fingerprint_options, student_seconds,
                                  secret)

    return _lane_executor().submit(in_lane).result()


def _grade_in_lane(parcel: Parcel, job_hash: str, options: GradingOptions, fingerprint: str,
                   fingerprint_options: dict[str, Any], student_seconds: float,
                   secret: str | None = None) -> dict[str, Any]:
    lane: _Lane | None = getattr(_lanes, "lane", None)
    if lane is None or lane.options != options:
        if lane is not None:
            lane.close()
            _all_lanes.remove(lane)
        lane = _lanes.lane = _Lane(options, fingerprint)
        _all_lanes.append(lane)
    remove_stale_tmp()  # a Dask worker killed on this host (a nanny restarts it) could not tidy up
    key = (repr(sorted(fingerprint_options.items())), secret)
    if key not in lane.fingerprints:  # a worker that joined after the driver's check is checked here
        lane.fingerprints[key] = _probe(options, fingerprint_options)["fingerprint"]
    actual = lane.fingerprints[key]
    if actual != fingerprint:
        raise GraderMismatch(f"the grader or exercises on this Dask worker differ from the driver's "
                             f"(fingerprint {actual[:12] or 'unavailable'} here, "
                             f"{fingerprint[:12]} on the driver)")
    shutil.rmtree(lane.inbox, ignore_errors=True)
    lane.inbox.mkdir()
    try:
        student = unpack(parcel, lane.inbox)
        grader = lane.grader
        grader.options = replace(options, submissions=lane.inbox)  # paths in the record: relative to it
        timed_out, finished = threading.Event(), threading.Event()

        def stop() -> None:
            """Past the student's total time their worker is stopped, as the local pool stops the whole
            process; and again whenever it is restarted, so the remaining calls end at once."""
            if finished.wait(student_seconds):
                return
            timed_out.set()
            while not finished.is_set():
                worker = grader.current
                if worker is not None:
                    worker.kill()
                finished.wait(0.05)

        watchdog = threading.Thread(target=stop, name="dlfs-student-timeout", daemon=True)
        watchdog.start()
        try:
            result = grader.grade(Job(student, job_hash))
        finally:
            finished.set()
            watchdog.join()
        if timed_out.is_set():
            result = timeout_result(result, student_seconds)
        reports = {fmt: (grader.reporters[fmt](result.report) if result.report is not None
                         else error_page(result, fmt)) for fmt in options.formats}
        return {"record": result.to_dict(), "reports": reports}
    finally:
        shutil.rmtree(lane.inbox, ignore_errors=True)


def timeout_result(result: StudentResult, student_seconds: float) -> StudentResult:
    """The row the local pool writes for a student stopped at ``--student-timeout`` (its message, translated)."""
    from ..i18n import _

    with use(result.lang):
        text = _("grading took longer than {seconds:g} s in all and was stopped").format(seconds=student_seconds)
    return replace(result, exercises=(), report=None, error=text, error_kind="timeout", notes=())


def remove_stale_tmp() -> None:
    """Folders of Dask worker processes that were killed (a nanny restarts them under a new pid)."""
    from ..worker.cleanup import remove_stale_folders

    remove_stale_folders(REMOTE_TMP_PREFIX)
