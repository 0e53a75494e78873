"""The trusted side of the worker: starts the sandbox, sends requests, survives its death.

A worker that crashes, hangs or exits is killed with its whole process tree and a
new one is started on the next request, replaying the submission without the
statements that killed earlier workers (DESIGN.md principle 5). Every new worker gets
a fresh copy of the student's files: a replay never runs from a folder that student
code has written to. Every byte the worker sends is read as hostile (grader/worker/replies.py).
"""
from __future__ import annotations

import subprocess
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from . import isolation, spawn
from .cleanup import remove_tree
from .replies import BadReply, Reply, StudentError, call_reply, load_record, parse_frame  # noqa: F401 (API)
from .requests import (BOOK_FOLDERS, call_op, get_op, load_frame, load_request, private_copy,  # noqa: F401 (API)
                       set_op, statement_keys)
from .tree import ProcessTree

MAX_REPLY_BYTES = 32 * 1024 * 1024
MAX_STARTUP_FAILURES = 3  # in a row: a worker that cannot even start is not the submission's doing
MAX_CUT_REPLAYS = 3  # loads again without statements cut at their time limit (see finish_load)
MAX_CALL_RESTARTS = 40  # workers started again after calls that killed them, over one grading


# A call's budget is CPU time (the worker's SIGPROF): a busy machine must not change a verdict. The
# clock's limit, which only code that sleeps or waits for something reaches first, is this much
# longer: a worker that gets a third of a core still meets its CPU budget before the clock's.
WALL_FACTOR, WALL_SLACK = 3.0, 0.5


def wall_seconds(budget: float) -> float:
    """How long the clock may run for a call with ``budget`` seconds of CPU time."""
    return budget * WALL_FACTOR + WALL_SLACK


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker; the defaults suit chapter 4 on a laptop."""

    call_seconds: float = 5.0
    statement_seconds: float = 1.0  # a definition or a cheap assignment (see grader.submission.toplevel)
    demo_statement_seconds: float = 0.1  # one statement of demo code
    demo_total_seconds: float = 0.5  # all demo code of a submission together
    import_seconds: float = 5.0
    memory_mb: int = spawn.DEFAULT_MEMORY_MB
    cpu_seconds: int = spawn.DEFAULT_CPU_SECONDS
    startup_seconds: float = 15.0


@dataclass(frozen=True)
class Isolation:
    """How the current worker is isolated, as confirmed by the worker before any student code ran."""

    level: str
    sandboxed: bool
    seccomp: str  # "" when the filter is loaded, else why not
    uid: int
    limits: bool
    alarm: bool
    fallback: str = ""  # why the namespace sandbox was not used, when it was not
    # A plain worker (no namespaces): whether it dropped to an unprivileged uid (the grader is root),
    # and whether Landlock holds its file access ("" when it does, else why not).
    uid_dropped: bool = False
    landlock: str = "not needed: the sandbox's namespaces hold its view"


def _(message: str) -> str:
    """Translate lazily: importing the catalogs must not delay starting the worker."""
    from ..i18n import _ as translate
    return translate(message)


class WorkerDied(Exception):
    """The worker process ended or broke the protocol."""


class WorkerTimeout(Exception):
    """The worker did not answer in time."""


class WorkerClient:
    def __init__(self, limits: Limits = Limits(), started: tuple[Path | None, subprocess.Popen] | None = None, *,
                 slot: int | None = None, sandbox: bool | None = None) -> None:
        """``started``: a (workdir, process) pair from :func:`grader.worker.spawn.spawn`, already running.

        ``slot``: which concurrent worker this is when grading a class (its own uid);
        ``sandbox``: None uses the strongest isolation available, False a plain process.
        """
        self.limits = limits
        self.slot = slot
        self.sandbox = sandbox
        self.files: dict[str, bytes] = {}  # set before load(): each worker gets its own copy
        # The submission's folder in ``files`` when they are a staged repository (grader/submission/
        # repository.py): "repo/ch04"; None when ``files`` are the folder's alone.
        self.home: str | None = None
        self.folders: list[Path] = []  # host folders of plain-process workers, all removed on close
        self.workdir: Path | None = None
        self.proc: ProcessTree | None = None
        if started:
            self.proc = ProcessTree(started[1])
            if self.proc.sandboxed:
                if started[0] is not None:
                    remove_tree(started[0])  # made before spawning, not needed by a sandboxed worker
            else:
                self.workdir = started[0]
                self.folders.append(started[0])
        self.isolation: Isolation | None = None
        self.load_request: dict[str, Any] | None = None
        self.sent_to: ProcessTree | None = None  # the process that holds the load request already
        self.keys: dict[tuple[str, int], float] = {}
        self.skip: dict[tuple[str, int], str] = {}
        self.running: tuple[str, int] | None = None
        self.restarts = 0
        self.call_restarts = 0
        self.fallback = ""
        # The grading process's own work to do while it waits for the worker (expected values,
        # a report's imports), in small bites: one runs whenever an answer is awaited and none
        # has arrived yet, so the waits are filled and an answer waits at most one bite.
        self.idle: deque[Callable[[], None]] = deque()

    # ---- life cycle -------------------------------------------------------
    def start(self) -> None:
        """Spawn the process now; it imports NumPy while the caller does other work.

        A worker that cannot be spawned is reported by the load that needs it, not here.
        """
        try:
            self._spawn()
        except WorkerDied:
            pass

    def _spawn(self) -> None:
        if self.proc is not None:
            return
        if self.workdir is not None and self.load_request is not None:
            # The last worker may have written to its folder: the next one starts from a clean copy.
            remove_tree(self.workdir)
        # A sandboxed worker's folder is a tmpfs of its own: nothing of it is on this machine's disk.
        sandbox = self.sandbox if self.sandbox is not None else isolation.bwrap_unavailable_reason() == ""
        self.workdir = None if sandbox else spawn.new_workdir()
        if self.workdir is not None:
            self.folders.append(self.workdir)
        try:
            popen = spawn.spawn(self.workdir or Path("/"), self.limits.memory_mb, self.limits.cpu_seconds,
                                slot=self.slot, sandbox=sandbox)
        except OSError as exc:  # no such interpreter, not executable, out of processes
            raise WorkerDied(f"the worker could not be started: {exc}") from None
        self.proc = ProcessTree(popen)
        spawn.not_dumpable()  # whoever grades (a class slot, pytest --grade, a notebook), not only `grade`

    def _await_ready(self) -> None:
        if self.proc is not None and self.proc.ready:
            return  # this worker already said so
        try:
            message = self._read(self.limits.startup_seconds)
        except (WorkerDied, WorkerTimeout):
            reason = self.proc.startup_error() if self.proc else ""
            if self.proc is not None and self.proc.sandboxed and reason and self.sandbox is not False:
                # The namespace sandbox cannot start here (user namespaces off, ...): say so, go on without it.
                isolation.mark_bwrap_failed(reason)
                self.fallback = reason
                self.kill()
                self._spawn()
                return self._await_ready()
            raise
        info = message.get("isolation")
        if message.get("ready") is not True or not isinstance(info, dict):
            raise WorkerDied("worker did not start")
        seccomp = info.get("seccomp") if isinstance(info.get("seccomp"), str) else "unknown"
        landlock = info.get("landlock") if isinstance(info.get("landlock"), str) else "unknown"
        sandboxed = self.proc.sandboxed
        uid = info.get("uid") if type(info.get("uid")) is int else -1
        # (Said before any student code ran: the runner refuses to start when the drop did not hold.)
        dropped = not sandboxed and info.get("dropped") is True and uid > 0
        self.proc.ready = True
        self.isolation = Isolation(isolation.level_of(sandboxed, seccomp == "", dropped, not sandboxed and landlock == ""),
                                   sandboxed, seccomp, uid, info.get("limits") is True, info.get("alarm") is True,
                                   self.fallback or ("" if sandboxed else isolation.bwrap_unavailable_reason()),
                                   dropped, landlock)

    def kill(self) -> None:
        """Kill the worker's whole process tree and wait until it is gone."""
        if self.proc is None:
            return
        self.proc.kill()
        self.proc = None

    def close(self) -> None:
        self.kill()
        for folder in self.folders:
            remove_tree(folder)
        self.folders.clear()

    def __enter__(self) -> "WorkerClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- framing ------------------------------------------------------------
    def _send(self, message: dict[str, Any]) -> None:
        from . import wire  # imported late so that spawning the worker does not wait for NumPy
        try:
            wire.write_message(self.proc.stdin, message)
        except (BrokenPipeError, OSError, ValueError, AttributeError) as exc:
            raise WorkerDied(str(exc)) from exc

    def _read(self, timeout: float) -> dict[str, Any]:
        """One frame, within ``timeout``; a frame over the size limit or not a JSON object kills the worker."""
        proc = self.proc
        if proc is None:
            raise WorkerDied("no worker")
        deadline = time.monotonic() + timeout
        header = 4
        while True:
            if len(proc.buffer) >= header:
                size = int.from_bytes(proc.buffer[:header], "big")
                if size > MAX_REPLY_BYTES:
                    raise WorkerDied("reply too large")
                end = header + size
                if len(proc.buffer) >= end:
                    body = bytes(proc.buffer[header:end])
                    del proc.buffer[:end]
                    try:
                        return parse_frame(body)
                    except BadReply as exc:
                        raise WorkerDied(str(exc)) from None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerTimeout()
            if self.idle and not proc.readable():
                bite = self.idle.popleft()
                try:
                    bite()
                except Exception:  # the work is done again where it is needed, and fails there if it must
                    pass
                continue
            chunk = proc.read(remaining)
            if chunk is None:
                continue
            if not chunk:
                raise WorkerDied("worker exited")
            proc.buffer.extend(chunk)

    # ---- loading ------------------------------------------------------------
    def load(self, cells: list[dict[str, Any]], filename: str, paths: list[str] = (),
             protect: list[str] = ()) -> dict[str, Any]:
        """Run the submission's top-level code; returns the first successful load's record
        (:meth:`start_load`, then :meth:`finish_load`).

        A statement that kills or hangs the worker is marked and skipped in the next
        worker (one restart per such statement); statements abandoned under their time
        budget are skipped in replays.

        ``paths``: the submission's folder and its parent. The worker never sees them: it
        gets a private copy of ``files`` in a folder of the same name, and beside it copies
        of the book's helper folders found there (``common/``, ``dataset/``), nothing else.
        """
        self.start_load(cells, filename, paths, protect)
        return self.finish_load()

    def start_load(self, cells: list[dict[str, Any]], filename: str, paths: list[str] = (),
                   protect: list[str] = ()) -> None:
        """Build the load request (see :meth:`load`) and send it now, if it fits in the pipe.

        The worker reads it the moment it is ready, while the caller goes on with work of its own
        (the CLI loads the rest of the grader): :meth:`finish_load` then reads the answer. A request
        larger than the pipe, or a worker that cannot take it, is sent by finish_load instead.
        """
        self.keys = statement_keys(cells, self.limits)
        self.load_request = load_request(cells, filename, self.files, [Path(p) for p in paths], protect, self.limits,
                                         home=self.home)
        self.sent_to = None
        try:
            self._spawn()
            frame = self._load_frame()
            if len(frame) <= self.proc.room():
                self.proc.stdin.write(frame)
                self.proc.stdin.flush()
                self.sent_to = self.proc
        except (WorkerDied, BrokenPipeError, OSError, ValueError, AttributeError):
            self.sent_to = None  # finish_load starts the worker over and sends it then

    def finish_load(self) -> dict[str, Any]:
        """The record of the load :meth:`start_load` began (replays included).

        A statement cut short at its time limit leaves behind whatever part of it ran (a list half
        filled, a loop's variables, definitions exec'd from files it was reading), and how far it
        got depends on the machine's load. The same submission must get the same report, so the
        submission is run again in a new worker without the statements that were cut: they count
        as not run, whole. (Only when something was cut: honest code within its limits is loaded once.)
        """
        for _attempt in range(MAX_CUT_REPLAYS + 1):
            result = self._load_until_done()
            cut = False
            for record in result["statements"]:
                key = (record["cell"], record["index"])
                if key in self.skip and record["status"] == "skipped":
                    record["status"] = self.skip[key]
                if record["status"] == "abandoned" and key not in self.skip:
                    cut = True
                if record["status"] in ("abandoned", "skipped-budget"):
                    self.skip.setdefault(key, record["status"])
            if not cut:
                break
            self.kill()
        return result

    def _load_message(self) -> dict[str, Any]:
        root = isolation.WORK_DIR if self.proc.sandboxed else str(self.workdir)
        home = self.load_request["home"]
        top = home.partition("/")[0]  # the repository's root: the student's own path edits reach no higher
        return dict(self.load_request, skip=[list(k) for k in self.skip], cwd=home,
                    paths=[f"{root}/{home}", f"{root}/{top}" if top != home else root])

    def _load_frame(self) -> bytes:
        return load_frame(self._load_message())

    def _load_deadline(self) -> float:
        """One deadline for a whole load and its replays: what the statements' budgets allow, no more."""
        budgets = sum(b for k, b in self.keys.items() if k not in self.skip)
        return time.monotonic() + self.limits.startup_seconds + budgets + 1.0 * len(self.keys) + 2.0

    def _load_until_done(self) -> dict[str, Any]:
        deadline = self._load_deadline()
        failures = 0
        while True:
            if time.monotonic() >= deadline:
                # Out of time: what has not run yet is given up, what ran before runs once more.
                self._give_up_after(self.running)
                deadline = self._load_deadline()
            try:
                return self._replay(deadline)
            except (WorkerTimeout, WorkerDied) as exc:
                reason = "timeout" if isinstance(exc, WorkerTimeout) else "killed"
            self.kill()
            self.restarts += 1
            if self.running is None:
                failures += 1
                if failures >= MAX_STARTUP_FAILURES:
                    raise WorkerDied("the worker could not start")
                continue
            failures = 0
            self.skip[self.running] = reason

    def _give_up_after(self, running: tuple[str, int] | None) -> None:
        order = list(self.keys)
        start = order.index(running) if running in self.keys else 0
        for key in order[start:]:
            self.skip.setdefault(key, "timeout" if key == running else "skipped")

    def _replay(self, deadline: float) -> dict[str, Any]:
        """Start a worker and run the submission in it, without the statements in ``self.skip``.

        ``self.running`` names the statement under way, should the worker die or hang in it.
        Progress must name each statement once: a forged one is a broken protocol.
        """
        self.running = None
        self._spawn()
        target, sent = self.proc, self.sent_to is not None and self.sent_to is self.proc
        self.sent_to = None
        self._await_ready()
        if not sent or self.proc is not target:  # not sent ahead, or a new process replaced that one
            self._send(self._load_message())
        # Each statement at most once. Not in order: a folder's files run in import order.
        seen: set[tuple[str, int]] = set()
        while True:
            # Before the first statement the worker unpacks up to 40 MiB of files: give it
            # the start-up allowance; after that, the running statement's budget.
            wait = self.keys.get(self.running, 0.0) + 2.0 if self.running else self.limits.startup_seconds
            message = self._read(max(0.0, min(wait, deadline - time.monotonic())))
            if "progress" not in message:
                try:
                    return load_record(message, self.keys)
                except BadReply as exc:
                    raise WorkerDied(str(exc)) from None
            progress = message["progress"]
            key = (progress[0], progress[1]) if isinstance(progress, list) and len(progress) == 2 \
                and isinstance(progress[0], str) and type(progress[1]) is int else None
            if key not in self.keys or key in seen or key in self.skip:
                raise WorkerDied("forged progress")
            seen.add(key)
            self.running = key

    def _ensure_loaded(self) -> None:
        """After a crash or a timeout, the next request gets a new worker with the submission replayed."""
        if self.proc is not None:
            return
        if self.call_restarts >= MAX_CALL_RESTARTS:
            raise WorkerDied("too many worker restarts")
        self.call_restarts += 1
        self.restarts += 1
        if self.load_request is None:
            self._spawn()
            self._await_ready()
            return
        self._load_until_done()

    # ---- requests -------------------------------------------------------------
    def request(self, message: dict[str, Any], timeout: float | None = None, *, decode=None) -> Reply:
        """Send one request; a timeout, crash or unreadable answer costs this request only.

        ``decode``: how the reply's value is read (default: :func:`wire.decode`; a shape probe's
        is :func:`wire.shape_from_wire`)."""
        timeout = self.limits.call_seconds if timeout is None else timeout
        try:
            self._ensure_loaded()
        except (WorkerDied, WorkerTimeout):
            self.kill()
            return Reply("crash", error=StudentError("WorkerCrash", _("the submission could not be reloaded")))
        message = dict(message)
        message.setdefault("budget", timeout)
        message.setdefault("wall", wall_seconds(timeout))
        try:
            self._send(message)
            raw = self._read(wall_seconds(timeout) + 1.0)
        except (WorkerTimeout, WorkerDied) as exc:
            return self._lost(exc, timeout)
        expected = len(message.get("ops", ())) if message.get("op") == "batch" else 0
        return self._reply(raw, expected, decode=decode)

    def stream(self, ops: list[dict[str, Any]], timeout: float | None = None, *, stop_on_error: bool = False,
               decode=None) -> list[Reply]:
        """Several calls in one round trip, each with the time limit of a call of its own.

        The worker answers each call with its own frame as it returns, so the calls run while
        this process judges the earlier answers. A call that times out or kills the worker ends
        the stream with its timeout or crash reply: the calls after it are not run (fewer
        replies than ops), and the next request starts a new worker, as after a single call.
        With ``stop_on_error`` any failed step ends it (the worker stops there too): the steps
        run as one after another would, each answered on its own. ``decode`` as for :meth:`request`.
        """
        timeout = self.limits.call_seconds if timeout is None else timeout
        if not ops:
            return []
        try:
            self._ensure_loaded()
        except (WorkerDied, WorkerTimeout):
            self.kill()
            return [Reply("crash", error=StudentError("WorkerCrash", _("the submission could not be reloaded")))]
        replies: list[Reply] = []
        try:
            self._send({"op": "stream", "ops": [dict(op, budget=timeout, wall=wall_seconds(timeout)) for op in ops],
                        **({"stop_on_error": True} if stop_on_error else {})})
            for _op in ops:
                replies.append(self._reply(self._read(wall_seconds(timeout) + 1.0), decode=decode))
                if replies[-1].status == "timeout" or (stop_on_error and not replies[-1].ok):
                    break  # the worker stops there too
        except (WorkerTimeout, WorkerDied) as exc:
            replies.append(self._lost(exc, timeout))
        return replies

    def descend(self, net: int, writes: list[int | None], params: dict[str, Any], call: dict[str, Any],
                lr: float, steps: int) -> Iterator[Reply]:
        """Steps of gradient descent in one request (the worker's Worker.descend): yields each step's
        reply, shaped as the reply to the batch ``[writes of params..., call]`` that step would have
        sent, each read within a call's time limit; a step that hangs or kills the worker ends it
        with its timeout or crash reply, as that batch would have. The caller computes the parameters
        itself from each step's gradients and stops where the worker does (a failed step, gradients
        that are not an array per key of the params' shapes). Close it (it is a generator) when done:
        a worker left with steps to answer is killed, and the next request gets a new one."""
        timeout = self.limits.call_seconds
        if steps <= 0:
            return
        try:
            self._ensure_loaded()
        except (WorkerDied, WorkerTimeout):
            self.kill()
            yield Reply("crash", error=StudentError("WorkerCrash", _("the submission could not be reloaded")))
            return
        from . import wire
        request = {"op": "descend", "net": net, "keys": list(params), "writes": list(writes),
                   "params": [wire.encode(v) for v in params.values()], "call": call, "lr": lr, "steps": steps,
                   "budget": timeout, "wall": wall_seconds(timeout)}
        more, answered = True, 0
        try:
            self._send(request)
            while more and answered < steps:
                raw = self._read(wall_seconds(timeout) + 1.0)
                answered += 1
                more = raw.get("more") is True
                yield self._reply(raw, len(params) + 1)
        except (WorkerTimeout, WorkerDied) as exc:
            more = False
            yield self._lost(exc, timeout)
        finally:
            if more and self.proc is not None:
                self.kill()

    def _lost(self, exc: Exception, timeout: float) -> Reply:
        """The reply of a call whose worker hung or died: the worker is killed (a new one replays the submission)."""
        if isinstance(exc, WorkerTimeout):
            self.kill()
            return Reply("timeout", error=StudentError("Timeout", _("no answer within {seconds:g} s").format(
                seconds=timeout)))
        code = self._exit_code()
        self.kill()
        detail = _("the process ended (exit code {code})").format(code=code) if code is not None \
            else _("the process broke off")
        return Reply("crash", error=StudentError("WorkerCrash", detail))

    def _exit_code(self, seconds: float = 1.0) -> int | None:
        """The exit code of a worker whose pipe just closed. Its end of the pipe closes a moment before
        the process is reaped: without the wait the same submission reads 'exit code 3' on one run
        and 'broke off' on another (DESIGN.md principle 6)."""
        return self.proc.exit_code(seconds) if self.proc is not None else None

    def _reply(self, raw: dict[str, Any], expected_replies: int = 0, *, decode=None) -> Reply:
        from . import wire
        return call_reply(raw, decode or wire.decode, nested=expected_replies)

    # ---- conveniences used by checks --------------------------------------------
    def call(self, target: dict[str, Any], args: tuple = (), kwargs: dict | None = None, *, seed: int = 0,
             keep: bool = False, return_args: bool = False, timeout: float | None = None) -> Reply:
        from . import wire
        return self.request({"op": "call", "target": target, "args": wire.encode(list(args)),
                             "kwargs": wire.encode(kwargs or {}), "seed": seed, "keep": keep,
                             "return_args": return_args}, timeout)

    def batch(self, ops: list[dict[str, Any]], *, timeout: float | None = None, stop_on_error: bool = True) -> Reply:
        return self.request({"op": "batch", "ops": ops, "stop_on_error": stop_on_error}, timeout)
