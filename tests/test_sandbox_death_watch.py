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


def test_a_sandbox_still_starting_when_its_grading_process_is_killed_does_not_outlive_it():
    from grader.worker import death_watch, isolation

    bwrap = isolation.bwrap_path()
    if not bwrap or isolation.bwrap_unavailable_reason():
        machine_lacks("sandbox", f"no usable bwrap here ({isolation.bwrap_unavailable_reason() or 'none found'})")
    if death_watch.watched(["x"], 5) == ["x"]:
        pytest.skip("no setpriv or /bin/sh: bwrap is started unwatched here")
    mark = f"4321.{os.getpid()}"  # a sleep of its own, to find the sandbox's processes by
    read, write = _full_pipe()
    grading = subprocess.Popen([sys.executable, "-c", GRADING_PROCESS, str(ROOT), str(write), bwrap, mark],
                               pass_fds=(write,), stdout=subprocess.PIPE, text=True)
    os.close(write)
    try:
        assert grading.stdout.readline() == "spawned\n"
        # The inner bwrap (pid 1 of its namespace) exists, and waits for its go-ahead.
        _wait_for(lambda: any(ns[1:] == ["1"] for ns in _marked(mark).values()), 30, "the sandbox never started")
        grading.send_signal(signal.SIGKILL)
        grading.wait()
        _wait_for(lambda: not _marked(mark), 30, f"left behind by the killed grading process: {_marked(mark)}")
    finally:
        for pid in _marked(mark):
            os.kill(pid, signal.SIGKILL)
        grading.stdout.close()
        os.close(read)
