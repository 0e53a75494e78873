"""The trusted side of the worker: starts the sandbox, sends requests, survives its death.

A worker that crashes, hangs or exits is killed with its whole process group and a
new one is started on the next request, replaying the submission without the
statements that killed earlier workers (DESIGN.md principle 5).
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import spawn


MAX_RESTARTS = 8


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker; the defaults suit chapter 4 on a laptop."""

    call_seconds: float = 5.0
    statement_seconds: float = 1.0  # a definition or a cheap assignment (see grader.toplevel)
    demo_statement_seconds: float = 0.1  # one statement of demo code
    demo_total_seconds: float = 0.5  # all demo code of a submission together
    import_seconds: float = 5.0
    memory_mb: int = spawn.DEFAULT_MEMORY_MB
    cpu_seconds: int = spawn.DEFAULT_CPU_SECONDS
    startup_seconds: float = 15.0


@dataclass(frozen=True)
class StudentError:
    """An exception raised by student code, located in the submission."""

    type: str
    message: str
    where: tuple[dict[str, Any], ...] = ()

    def summary(self) -> str:
        text = f"{self.type}: {self.message}" if self.message else self.type
        if self.where:
            last = self.where[-1]
            text += f" (line {last['line']}, in {last['function']}: {last['code']})"
        return text


@dataclass(frozen=True)
class Reply:
    """The outcome of one request: ``status`` is ok, error, timeout or crash."""

    status: str
    value: Any = None
    error: StudentError | None = None
    args: tuple[Any, ...] | None = None
    output: str = ""
    replies: tuple["Reply", ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class _Process:
    popen: subprocess.Popen
    fd_out: int
    buffer: bytearray = field(default_factory=bytearray)


def _(message: str) -> str:
    """Translate lazily: importing the catalogs must not delay starting the worker."""
    from ..i18n import _ as translate
    return translate(message)


class WorkerDied(Exception):
    """The worker process ended or broke the protocol."""


class WorkerTimeout(Exception):
    """The worker did not answer in time."""


class WorkerClient:
    def __init__(self, limits: Limits = Limits(), started: tuple[Path, subprocess.Popen] | None = None) -> None:
        """``started``: a (workdir, process) pair from :func:`grader.worker.spawn.spawn`, already running."""
        self.limits = limits
        self.files: dict[str, bytes] = {}  # set before load(): copied into the private folder
        self.workdir = started[0] if started else spawn.new_workdir()
        self.proc: _Process | None = _Process(started[1], started[1].stdout.fileno()) if started else None
        self.load_request: dict[str, Any] | None = None
        self.skip: set[tuple[Any, int]] = set()
        self.running: tuple[Any, int] | None = None
        self.restarts = 0

    # ---- life cycle -------------------------------------------------------
    def start(self) -> None:
        """Spawn the process now; it imports NumPy while the caller does other work."""
        if self.proc is not None:
            return
        popen = spawn.spawn(self.workdir, self.limits.memory_mb, self.limits.cpu_seconds)
        self.proc = _Process(popen, popen.stdout.fileno())

    def _await_ready(self) -> None:
        message = self._read(self.limits.startup_seconds)
        if not message.get("ready"):
            raise WorkerDied("worker did not start")

    def kill(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.popen.stdin, self.proc.popen.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.proc = None

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "WorkerClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- framing ------------------------------------------------------------
    def _send(self, message: dict[str, Any]) -> None:
        from . import wire  # imported late so that spawning the worker does not wait for NumPy
        try:
            wire.write_message(self.proc.popen.stdin, message)
        except (BrokenPipeError, OSError, ValueError) as exc:
            raise WorkerDied(str(exc)) from exc

    def _read(self, timeout: float) -> dict[str, Any]:
        from . import wire
        proc = self.proc
        deadline = time.monotonic() + timeout
        while True:
            if len(proc.buffer) >= wire.HEADER.size:
                (size,) = wire.HEADER.unpack(proc.buffer[:wire.HEADER.size])
                if size > wire.MAX_MESSAGE_BYTES:
                    raise WorkerDied("reply too large")
                end = wire.HEADER.size + size
                if len(proc.buffer) >= end:
                    body = bytes(proc.buffer[wire.HEADER.size:end])
                    del proc.buffer[:end]
                    try:
                        message = json.loads(body.decode("utf-8"))
                    except ValueError as exc:
                        raise WorkerDied("garbled reply") from exc
                    if not isinstance(message, dict):
                        raise WorkerDied("garbled reply")
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerTimeout()
            ready, _, _ = select.select([proc.fd_out], [], [], remaining)
            if ready:
                chunk = os.read(proc.fd_out, 1 << 20)
                if not chunk:
                    raise WorkerDied("worker exited")
                proc.buffer.extend(chunk)

    # ---- loading ------------------------------------------------------------
    def load(self, cells: list[dict[str, Any]], filename: str, paths: list[str] = (),
             protect: list[str] = ()) -> dict[str, Any]:
        """Run the submission's top-level code; returns the first successful load's record.

        A statement that kills or hangs the worker is marked and skipped in the next
        worker; statements abandoned under their time budget are skipped in replays.
        """
        for name, data in self.files.items():
            target = self.workdir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        self.load_request = {"op": "load", "cells": cells, "file": filename, "paths": list(paths),
                             "protect": list(protect),
                             "statement_budget": self.limits.statement_seconds,
                             "demo_statement_budget": self.limits.demo_statement_seconds,
                             "demo_budget": self.limits.demo_total_seconds,
                             "import_budget": self.limits.import_seconds}
        fatal: dict[tuple[Any, int], str] = {}
        while True:
            result = self._try_load(fatal)
            if result is not None:
                break
            if self.restarts > MAX_RESTARTS:
                raise WorkerDied("the submission kills every worker started for it")
        for record in result["statements"]:
            key = (record["cell"], record["index"])
            if key in fatal:
                record["status"] = fatal[key]
            if record.get("status") in ("abandoned", "killed", "timeout", "skipped-budget"):
                self.skip.add(key)
        return result

    def _replay(self) -> dict[str, Any]:
        """Start a worker and run the submission in it, without the statements in ``self.skip``.

        ``self.running`` names the statement under way, should the worker die or hang in it.
        """
        self.running = None
        self.start()
        self._await_ready()
        self._send(dict(self.load_request, skip=[list(k) for k in self.skip]))
        wait = max(self.limits.statement_seconds, self.limits.import_seconds) + 2.0
        while True:
            message = self._read(wait)
            if "progress" not in message:
                return message
            self.running = tuple(message["progress"])

    def _try_load(self, fatal: dict[tuple[Any, int], str]) -> dict[str, Any] | None:
        self.skip |= set(fatal)
        try:
            return self._replay()
        except WorkerTimeout:
            reason = "timeout"
        except WorkerDied:
            reason = "killed"
        self.kill()
        self.restarts += 1
        if self.running is None:
            if self.restarts > MAX_RESTARTS:
                raise WorkerDied("the worker could not start")
            return None
        fatal[self.running] = reason
        return None

    def _ensure_loaded(self) -> None:
        """After a crash or a timeout, the next request gets a new worker with the submission replayed."""
        if self.proc is not None:
            return
        if self.restarts > MAX_RESTARTS:
            raise WorkerDied("too many worker restarts")
        self.restarts += 1
        self._replay()

    # ---- requests -------------------------------------------------------------
    def request(self, message: dict[str, Any], timeout: float | None = None) -> Reply:
        """Send one request; a timeout or crash costs this request and the current worker."""
        timeout = self.limits.call_seconds if timeout is None else timeout
        try:
            self._ensure_loaded()
        except (WorkerDied, WorkerTimeout):
            self.kill()
            return Reply("crash", error=StudentError("WorkerCrash", _("the submission could not be reloaded")))
        message = dict(message)
        message.setdefault("budget", timeout)
        try:
            self._send(message)
            raw = self._read(timeout + 1.0)
        except WorkerTimeout:
            self.kill()
            return Reply("timeout", error=StudentError("Timeout", _("no answer within {seconds:g} s").format(
                seconds=timeout)))
        except WorkerDied:
            code = self.proc.popen.poll() if self.proc else None
            self.kill()
            detail = _("the process ended (exit code {code})").format(code=code) if code is not None \
                else _("the process broke off")
            return Reply("crash", error=StudentError("WorkerCrash", detail))
        return self._reply(raw)

    def _reply(self, raw: dict[str, Any]) -> Reply:
        from . import wire
        output = str(raw.get("output", ""))
        if raw.get("ok"):
            try:
                value = wire.decode(raw.get("value"))
                args = tuple(wire.decode(raw["args"])) if "args" in raw else None
            except (ValueError, TypeError, KeyError) as exc:
                return Reply("error", error=StudentError("BadValue", _("could not read the returned value: {reason}"
                                                                       ).format(reason=exc)))
            replies = tuple(self._reply(r) for r in raw.get("replies", ()))
            return Reply("ok", value=value, args=args, output=output, replies=replies)
        err = raw.get("error") or {}
        error = StudentError(str(err.get("type", "Error")), str(err.get("message", "")),
                             tuple(w for w in err.get("where", ()) if isinstance(w, dict)))
        return Reply("timeout" if raw.get("timeout") else "error", error=error, output=output)

    # ---- conveniences used by checks --------------------------------------------
    def call(self, target: dict[str, Any], args: tuple = (), kwargs: dict | None = None, *, seed: int = 0,
             keep: bool = False, return_args: bool = False, timeout: float | None = None) -> Reply:
        from . import wire
        return self.request({"op": "call", "target": target, "args": wire.encode(list(args)),
                             "kwargs": wire.encode(kwargs or {}), "seed": seed, "keep": keep,
                             "return_args": return_args}, timeout)

    def batch(self, ops: list[dict[str, Any]], *, timeout: float | None = None, stop_on_error: bool = True) -> Reply:
        return self.request({"op": "batch", "ops": ops, "stop_on_error": stop_on_error}, timeout)


def call_op(target: dict[str, Any], args: tuple = (), *, seed: int = 0, keep: bool = False) -> dict[str, Any]:
    """One call inside a batch request."""
    from . import wire
    return {"op": "call", "target": target, "args": wire.encode(list(args)), "kwargs": {}, "seed": seed, "keep": keep}


def set_op(target: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    from . import wire
    return {"op": "set", "target": target, "path": path, "value": wire.encode(value)}


def get_op(target: dict[str, Any], path: list[str]) -> dict[str, Any]:
    return {"op": "get", "target": target, "path": path}
