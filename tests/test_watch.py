"""`grade --watch PATH` (grader/cli/watch.py): a new report on each save, and nothing left after Ctrl-C."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT

pytest.importorskip("watchfiles")

RIGHT = "import numpy as np\n\ndef sum_squares_error(y, t):\n    return 0.5 * np.sum((y - t)**2)\n"
WRONG = "import numpy as np\n\ndef sum_squares_error(y, t):\n    return np.sum((y - t)**2)\n"
WAIT = 120  # seconds a slow, busy machine may take to show a report; the assertions are about what it shows


def _session_processes(sid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _next(lines: queue.Queue, start: str) -> str:
    """The next line of the watch's output that starts with ``start``."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line.startswith(start):
            return line.strip()
    raise AssertionError(f"no line starting with {start!r}")


def test_watch_regrades_on_each_save_and_ctrl_c_leaves_no_process(tmp_path):
    submission = tmp_path / "chapter4.py"
    submission.write_text(WRONG, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    # A session of its own: Ctrl-C reaches a terminal's whole foreground group, as killpg does here,
    # and every process the watch started is found by its session.
    watching = subprocess.Popen([sys.executable, "-m", "grader.cli", "--watch", str(submission), "--only",
                                 "sum_squares_error"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in watching.stdout], daemon=True)
    reader.start()
    try:
        assert _next(lines, "Score:") == "Score: 0 / 10"
        _next(lines, "watching")  # said once the watch is on: a save from now on is seen
        submission.write_text(RIGHT, encoding="utf-8")
        assert _next(lines, "Score:") == "Score: 10 / 10"
        os.killpg(watching.pid, signal.SIGINT)
        assert watching.wait(WAIT) == 130
    finally:
        if watching.poll() is None:
            os.killpg(watching.pid, signal.SIGKILL)
            watching.wait()
    deadline = time.monotonic() + WAIT
    while _session_processes(watching.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _session_processes(watching.pid) == []
