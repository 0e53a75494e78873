"""A sandbox ends with its grading process, even when that process dies while bwrap is starting.

bwrap's inner process waits for the outer's go-ahead before it sets its own parent-death signal.
The test holds the outer in that window (its --info-fd report cannot be written: the pipe is
full), kills the grading process outright, and looks for the inner. Without the watching shell of
grader/worker/death_watch.py it is still there, with parent 1, for good (checked on Debian's bwrap).
"""
from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import ROOT, machine_lacks

GRADING_PROCESS = """
import sys, time
sys.path.insert(0, sys.argv[1])
from grader.worker import death_watch, spawn
info = int(sys.argv[2])
command = [sys.argv[3], "--die-with-parent", "--unshare-pid", "--info-fd", str(info), "--ro-bind", "/", "/",
           "sleep", sys.argv[4]]
spawn.SpawnedProcess.start(death_watch.watched(command, info), keep_fd=info)
print("spawned", flush=True)
time.sleep(120)
"""


def _marked(mark: str) -> dict[int, list[str]]:
    """Live processes whose command line holds ``mark``: pid -> their pids in each pid namespace."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if mark.encode() not in (entry / "cmdline").read_bytes():
                continue
            status = dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if status["State"].split()[0] not in ("Z", "X"):
            found[int(entry.name)] = status["NSpid"].split()
    return found


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _full_pipe() -> tuple[int, int]:
    read, write = os.pipe()
    fcntl.fcntl(write, fcntl.F_SETFL, os.O_NONBLOCK)
    try:
        while True:
            os.write(write, b"x" * 65536)
    except BlockingIOError:
        pass
    fcntl.fcntl(write, fcntl.F_SETFL, 0)
    return read, write


def _bwrap() -> str:
    from grader.worker import death_watch, isolation

    bwrap = isolation.bwrap_path()
    if not bwrap or isolation.bwrap_unavailable_reason():
        machine_lacks("sandbox", f"no usable bwrap here ({isolation.bwrap_unavailable_reason() or 'none found'})")
    if death_watch.watched(["x"], 5) == ["x"]:
        pytest.skip("no setpriv or /bin/sh: bwrap is started unwatched here")
    return bwrap


@contextmanager
def _sandbox_held_before_its_go_ahead(mark: str):
    """A grading process whose sandbox's outer bwrap is stuck writing its --info-fd report (the
    pipe is full), so that the inner waits for its go-ahead: (the grading process, the pipe's read end)."""
    read, write = _full_pipe()
    grading = subprocess.Popen([sys.executable, "-c", GRADING_PROCESS, str(ROOT), str(write), _bwrap(), mark],
                               pass_fds=(write,), stdout=subprocess.PIPE, text=True)
    os.close(write)
    ends = [read]
    try:
        assert grading.stdout.readline() == "spawned\n"
        # The inner bwrap (pid 1 of its namespace) exists, and waits for its go-ahead.
        _wait_for(lambda: any(ns[1:] == ["1"] for ns in _marked(mark).values()), 30, "the sandbox never started")
        yield grading, ends
    finally:
        for pid in _marked(mark):
            os.kill(pid, signal.SIGKILL)
        grading.kill()
        grading.wait()
        grading.stdout.close()
        for fd in ends:
            os.close(fd)


def test_a_sandbox_still_starting_when_its_grading_process_is_killed_does_not_outlive_it():
    mark = f"4321.{os.getpid()}"  # a sleep of its own, to find the sandbox's processes by
    with _sandbox_held_before_its_go_ahead(mark) as (grading, _ends):
        grading.send_signal(signal.SIGKILL)
        grading.wait()
        _wait_for(lambda: not _marked(mark), 30, f"left behind by the killed grading process: {_marked(mark)}")


GRADING_PROCESS_OWNING_THE_REPORT = """
import fcntl, os, sys, time
sys.path.insert(0, sys.argv[1])
from grader.worker import death_watch, spawn
read, write = os.pipe()  # as spawn.py makes it: the grading process holds the read end
fcntl.fcntl(write, fcntl.F_SETFL, os.O_NONBLOCK)
try:
    while True:
        os.write(write, b"x" * 65536)  # full: the outer bwrap cannot write its report
except BlockingIOError:
    pass
fcntl.fcntl(write, fcntl.F_SETFL, 0)
command = [sys.argv[2], "--die-with-parent", "--unshare-pid", "--info-fd", str(write), "--ro-bind", "/", "/",
           "sleep", sys.argv[3]]
spawn.SpawnedProcess.start(death_watch.watched(command, write), keep_fd=write, hold_fd=read)
print("spawned", flush=True)
sys.stdin.readline()
os.close(read)  # what the kernel does first to a dying grading process: its files are closed
print("closed", flush=True)
time.sleep(120)
"""


def test_a_dying_grading_process_closing_the_report_pipe_does_not_kill_the_outer_bwrap_first():
    """The grading process's files are closed before its children get their parent-death signal.
    Its report pipe's read end closing must not kill the outer bwrap (SIGPIPE) in the window: the
    watching shell would then see bwrap end, exit without its trap, and leave the inner waiting
    with parent 1 (found after a killed class run on a busy machine). Then the grading process dies
    and nothing of the sandbox is left."""
    mark = f"4322.{os.getpid()}"
    grading = subprocess.Popen([sys.executable, "-c", GRADING_PROCESS_OWNING_THE_REPORT, str(ROOT), _bwrap(), mark],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    sandbox = lambda: {pid: ns for pid, ns in _marked(mark).items() if pid != grading.pid}  # noqa: E731
    try:
        assert grading.stdout.readline() == "spawned\n"
        _wait_for(lambda: any(ns[1:] == ["1"] for ns in sandbox().values()), 30, "the sandbox never started")
        grading.stdin.write("close\n")
        grading.stdin.flush()
        assert grading.stdout.readline() == "closed\n"
        time.sleep(1.0)  # long enough for a broken pipe to end the outer bwrap and the shell
        orphans = [pid for pid in sandbox() if _parent(pid) == 1]
        assert not orphans, f"the report's broken pipe left {orphans} with parent 1"
        assert len(sandbox()) == 3, sandbox()  # the shell, the outer bwrap, the inner still waiting
        grading.send_signal(signal.SIGKILL)
        grading.wait()
        _wait_for(lambda: not sandbox(), 30, f"left behind by the killed grading process: {sandbox()}")
    finally:
        for pid in sandbox():
            os.kill(pid, signal.SIGKILL)
        grading.kill()
        grading.wait()
        grading.stdin.close()
        grading.stdout.close()


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None
