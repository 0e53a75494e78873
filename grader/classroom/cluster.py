"""``grade class ... --scheduler tcp://HOST:8786``: the students graded as tasks on a Dask cluster.

The driver (this process) stays what it is in a local run: it plans who needs grading, writes
every student's reports and record to OUTDIR atomically the moment their task finishes, and
builds the gradebook and overview at the end, with the same code. Only the grading moves:
each student is one task carrying their files as bytes (:mod:`.parcel`, no shared filesystem)
and returning plain data (:mod:`.remote`); on the Dask worker, student code runs in the same
sandboxed worker process as locally.

Faults: a Dask worker that dies mid-task costs nothing (the scheduler gives the task to another
worker); a student whose task was on ``distributed.scheduler.allowed-failures`` + 1 workers
that died gets an ``error`` row saying so (``distributed.KilledWorker``) and is not tried again
(``--force`` or ``--student`` does). Before the first task, every worker's grader version,
exercises and code fingerprint are compared with the driver's; a worker that differs is refused.
A worker that joins later checks its fingerprint before each task, and what any worker sends back
is checked before it is written (the student, the content hash, the record's format): a task
refused either way costs only its student, whose row says why and who is graded again next run.
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Any, Callable

from ..i18n import N_
from .outcome import UsageError
from .grading import GradingOptions, Job, write_failure
from .parcel import ParcelTooLarge, pack
from .staging import StagingLimits
from .tree import TreeTooLarge
from .names import display_name
from .results import RECORD_FORMAT, StudentResult, record_path, report_path, write_atomic

INSTALL_HINT = 'pip install "dlfs-grader[dask]"'
TASK_RETRIES = 2  # for an exception on the Dask worker's side (a full disk): not a verdict on the student
KILLED = N_("the Dask workers grading this submission ended unexpectedly {tries} times "
            "(distributed.KilledWorker); it was not tried again")
INTERNAL = N_("internal error of the grader: {error}")
TOO_LARGE = N_("more than {megabytes} MB handed in (at {name}); remove data sets and large files")
# Refused answers are written with no hash (it never matches): the next run grades the student again.
REFUSED = N_("the answer of the Dask worker that graded this submission was refused ({reason}); it is graded "
             "again on the next run")
MISMATCH = N_("the Dask worker given this submission grades differently from this machine and refused it "
              "({reason}); it is graded again on the next run")


class AnswerRefused(Exception):
    """What a Dask worker sent back is not this student's result: never written as their grade."""


def require_dask() -> None:
    """A clear message instead of an ImportError when the ``dask`` extra is not installed."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UsageError(f"--scheduler needs Dask, which is not installed here: {INSTALL_HINT}") from None


def check_address(address: str) -> None:
    """A usage error at once for an address Dask cannot connect to: given one without a port, Dask's
    client failed and then spent 60 s closing itself, with a traceback."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import backends

    def refuse(why: str) -> UsageError:
        return UsageError(f"--scheduler {address!r} is not a Dask scheduler's address ({why}); give one "
                          "like tcp://HOST:8786")

    try:
        scheme, location = parse_address(address)
    except (TypeError, ValueError) as exc:
        raise refuse(str(exc)) from None
    if scheme not in backends:
        raise refuse(f"no such protocol {scheme!r}; known: {', '.join(sorted(backends))}")
    if scheme in ("tcp", "tls", "ws", "wss"):
        try:
            host, port = parse_host_port(location)
        except (TypeError, ValueError) as exc:
            raise refuse(str(exc)) from None
        if not host or not 0 < port < 65536:
            raise refuse("it needs a host and a port")


class DaskPool:
    """Same contract as :class:`.pool.ClassPool`: ``run(jobs, on_done)``, on_done in this process."""

    def __init__(self, options: GradingOptions, address: str, student_seconds: float, fingerprint: str,
                 fingerprint_options: dict[str, Any], carried_secret: str | None = None) -> None:
        require_dask()
        check_address(address)
        import dask.config
        from dask.utils import parse_timedelta
        from distributed import Client

        # Dask's own setting (DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=10s), for the scheduler and the workers.
        connect_seconds = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s")

        self.options, self.address, self.student_seconds = options, address, student_seconds
        self.fingerprint, self.fingerprint_options = fingerprint, fingerprint_options
        # The secret made in OUTDIR (no --secret-file): no worker can have it, so each task carries it.
        self.carried_secret = carried_secret
        try:
            self.client = Client(address, timeout=connect_seconds, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(f"cannot connect to the Dask scheduler at {address} ({type(exc).__name__}: {exc}); "
                             "is `dask scheduler` running there and reachable?") from None
        try:
            self.tries = self._allowed_failures() + 1
            self.threads = self._check_workers(connect_seconds)
            self._counted_at = time.monotonic()
        except BaseException:
            self.client.close()
            raise

    # ---- connection -----------------------------------------------------------------------------
    def _allowed_failures(self) -> int:
        try:
            return int(self.client.run_on_scheduler(_scheduler_allowed_failures))
        except Exception:  # a scheduler that refuses run_on_scheduler: Dask's default
            return 3

    def _check_workers(self, connect_seconds: float) -> int:
        """Refuse workers whose grader, exercises or options give other results than this machine's."""
        from .remote import probe

        try:
            self.client.wait_for_workers(1, timeout=connect_seconds)
        except (TimeoutError, OSError):
            raise UsageError(f"no Dask worker is connected to the scheduler at {self.address} after "
                             f"{connect_seconds:g} s: start `dask worker {self.address}` on the grading hosts") from None
        import grader

        mine = probe(self.options, self.fingerprint_options, self.carried_secret)
        if mine["error"] or mine["fingerprint"] != self.fingerprint:
            raise UsageError(f"the grader cannot check its own fingerprint: {mine['error'] or 'it changed'}")
        answers = self.client.run(probe, self.options, self.fingerprint_options, self.carried_secret)
        problems = []
        for worker, theirs in sorted(answers.items()):
            if theirs["error"]:
                problems.append(f"{worker}: cannot load the exercises: {theirs['error']}")
            elif theirs["version"] != grader.__version__:
                problems.append(f"{worker}: dlfs-grader {theirs['version']}, this machine {grader.__version__}")
            elif theirs["exercises"] != mine["exercises"]:
                theirs_text = ", ".join(f"{e} ({p:g})" for e, p in theirs["exercises"])
                problems.append(f"{worker}: other exercises or points: {theirs_text}")
            elif theirs["fingerprint"] != self.fingerprint:
                problems.append(f"{worker}: the same version, but its grader code or exercise specs differ "
                                f"(fingerprint {theirs['fingerprint'][:12]}, this machine {self.fingerprint[:12]})")
        if problems:
            raise UsageError("the Dask workers do not grade like this machine; install the same dlfs-grader "
                             "(and the same --plugin/--exercises) on every worker:\n  " + "\n  ".join(problems))
        info = self.client.scheduler_info()
        return sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()) or 1

    # ---- the run --------------------------------------------------------------------------------
    def run(self, jobs: list[Job], on_done: Callable[[StudentResult], None]) -> None:
        """Submit the students a few at a time (the driver's memory is bounded by what is in flight,
        not by the class size) and write each one as its future finishes, in finishing order."""
        from distributed import as_completed

        from .remote import grade_parcel, remove_stale_tmp

        pending = list(reversed(jobs))
        by_key: dict[str, tuple[Job, float]] = {}
        finished = as_completed(loop=self.client.loop)
        futures = []
        try:
            def submit_next() -> None:
                while pending:
                    job = pending.pop()
                    try:
                        parcel = pack(job.student, self.options.submissions)
                    except ParcelTooLarge as exc:
                        on_done(self._failed(job, TOO_LARGE, 0.0, "unreadable", name=str(exc),
                                             megabytes=2 * StagingLimits().max_bytes // (1024 * 1024)))
                        continue
                    except TreeTooLarge as exc:  # what staging would say on the worker, said here
                        on_done(self._failed(job, exc.message, 0.0, "unreadable", **exc.values))
                        continue
                    future = self.client.submit(grade_parcel, parcel, job.hash, self.options, self.fingerprint,
                                                self.fingerprint_options, self.student_seconds, self.carried_secret,
                                                # unique per run: another driver's task is never shared
                                                key=f"grade-{job.student.slug}-{uuid.uuid4().hex}",
                                                retries=TASK_RETRIES, pure=False)
                    by_key[future.key] = (job, time.monotonic())
                    futures.append(future)
                    finished.add(future)
                    return

            for _slot in range(self._capacity()):
                submit_next()
            for future in finished:
                job, started = by_key.pop(future.key)
                on_done(self._finish(future, job, started))
                futures.remove(future)
                future.release()
                for _slot in range(self._capacity() - len(futures)):
                    submit_next()
        finally:
            for future in futures:
                future.cancel()
            try:
                # Folders of workers killed during the run: every live worker tidies its host now,
                # whether or not another task came its way after the kill.
                self.client.run(remove_stale_tmp)
            except Exception:  # a cluster going away: tidying is never worth an error
                pass
            self.client.close()

    def _capacity(self) -> int:
        """How many students are in flight: one per worker thread of the cluster as it is now (an adaptive
        cluster grows and shrinks), so a worker holds only the student it grades. A submission that kills
        its worker then takes down no classmate's try, and the driver holds no more parcels than that."""
        now = time.monotonic()
        if now - self._counted_at > 2.0:
            try:
                self.threads = sum(self.client.nthreads().values()) or self.threads
            except Exception:  # the scheduler is briefly unreachable: keep the last count
                pass
            self._counted_at = now
        return max(1, self.threads)

    def _finish(self, future, job: Job, started: float) -> StudentResult:
        from distributed import KilledWorker

        from .remote import GraderMismatch

        try:
            answer = future.result()
        except KilledWorker:
            return self._failed(job, KILLED, time.monotonic() - started, "crash", tries=self.tries)
        except GraderMismatch as exc:
            # A worker that joined (or changed) after the check at the start: this student only, on every
            # try (the scheduler retries elsewhere first); the class goes on.
            return self._failed(Job(job.student, ""), MISMATCH, time.monotonic() - started, "internal",
                                reason=_reason(str(exc)))
        except Exception as exc:  # the task failed on every try: a grader or host problem, said in the row
            return self._failed(job, INTERNAL, time.monotonic() - started, "internal",
                                error=f"{type(exc).__name__}: {exc}")
        try:
            return self._write(job, answer)
        except AnswerRefused as exc:
            return self._failed(Job(job.student, ""), REFUSED, time.monotonic() - started, "internal",
                                reason=_reason(str(exc)))

    def _write(self, job: Job, answer: Any) -> StudentResult:
        """The reports, then the record (last: its presence means the rest is there), as a pool process does.
        The answer is checked first: a worker may be broken or hostile, and what it sends is data."""
        record, reports = _answer_parts(answer, self.options.formats)
        try:
            result = StudentResult.from_dict(record, full=True).summary()  # the full report must read back
        except Exception as exc:
            raise AnswerRefused(f"not a record: {type(exc).__name__}") from None
        slug = job.student.slug  # paths are made from the driver's own names, never from what came back
        if result.student != job.student.id or result.slug != slug:
            raise AnswerRefused(f"it answered for {display_name(result.student)!r} when asked for "
                                f"{display_name(job.student.id)!r}")
        if result.hash != job.hash:
            raise AnswerRefused("it graded other files or another grader's version of them (another content hash)")
        for fmt in self.options.formats:
            write_atomic(report_path(self.options.outdir, slug, fmt), reports[fmt])
        write_atomic(record_path(self.options.outdir, slug), json.dumps(record, ensure_ascii=False))
        return result

    def _failed(self, job: Job, message: str, seconds: float, kind: str, **values: Any) -> StudentResult:
        """An error row and page for a student the cluster could not grade (``message`` a msgid)."""
        return write_failure(self.options, job, kind, message, seconds, **values)


def _reason(text: str, limit: int = 300) -> str:
    """What a worker said, as one short line of a gradebook row (a hostile worker chooses this text)."""
    from ..reporters.safe_text import one_line

    text = one_line(text)
    return text if len(text) <= limit else text[:limit] + "..."


def _answer_parts(answer: Any, formats: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """The record and the report texts of an answer, or :class:`AnswerRefused` for anything else."""
    record = answer.get("record") if isinstance(answer, dict) else None
    reports = answer.get("reports") if isinstance(answer, dict) else None
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        raise AnswerRefused("not a record of this grader's format")
    if not isinstance(reports, dict) or not all(isinstance(reports.get(fmt), str) for fmt in formats):
        raise AnswerRefused("its reports are missing")
    return record, reports


def _scheduler_allowed_failures(dask_scheduler) -> int:
    return dask_scheduler.allowed_failures

