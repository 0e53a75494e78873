"""Memory bounded as a whole: where the grader can make a memory cgroup, a plain worker's shared
memory and tmpfs pages count against its limit (grader/worker/memory_cgroup.py).

The worker's RLIMIT_AS bounds only its address space, and RLIMIT_FSIZE one file's size. Where the
grader's TMPDIR is a tmpfs (Debian 13 and Fedora mount /tmp so), files the worker writes in its own
folder, where it may write, are host memory that outlives any mapping: many files of 32 MiB each
grow the host's shared memory without end, unless the worker's cgroup counts them.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from grader.worker import memory_cgroup, spawn
from grader.worker.client import Limits, WorkerClient

MEMORY_MB = 192
FLOOD = """
import os
def flood(megabytes):
    # Files of 32 MiB each, in its own folder: RLIMIT_FSIZE (64 MiB) stops one big file, not many.
    chunk = b"x" * (1 << 20)
    written = 0
    while written < megabytes:
        with open(f"flood-{written // 32}.bin", "wb") as out:
            for _ in range(32):
                out.write(chunk)
                out.flush()
                written += 1
    return written
"""


def _machine_has_a_writable_memory_cgroup() -> str:
    """Read from the machine, not from the code under test: root and a memory hierarchy it may write."""
    if os.geteuid() != 0:
        return "only root (or a delegated cgroup v2) may make cgroups"
    for folder in ("/sys/fs/cgroup/memory", "/sys/fs/cgroup"):
        if os.path.isfile(os.path.join(folder, "memory.limit_in_bytes")) or os.path.isfile(
                os.path.join(folder, "cgroup.controllers")) and "memory" in Path(
                folder, "cgroup.controllers").read_text():
            if os.access(folder, os.W_OK):
                return ""
    return "no writable memory cgroup on this machine"


REASON = _machine_has_a_writable_memory_cgroup()
needs_cgroup = pytest.mark.skipif(bool(REASON), reason=REASON)


def shmem_kib() -> int:
    with open("/proc/meminfo", encoding="ascii") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("Shmem:"))


@pytest.fixture
def plain_root_worker(monkeypatch):
    """A plain worker as root without Landlock or another uid, its folder in a tmpfs (/dev/shm)."""
    import tempfile

    monkeypatch.setenv("DLFS_SANDBOX", "off")
    monkeypatch.setattr(spawn, "SIMULATE_MISSING", ("landlock", "uid"))
    in_memory = Path(tempfile.mkdtemp(prefix="dlfs-cgroup-test-", dir="/dev/shm"))
    monkeypatch.setattr(tempfile, "tempdir", str(in_memory))
    worker = WorkerClient(Limits(memory_mb=MEMORY_MB, call_seconds=20.0))
    yield worker
    worker.close()
    shutil.rmtree(in_memory, ignore_errors=True)


@needs_cgroup
def test_a_worker_writing_tmpfs_files_past_its_limit_grows_host_memory_by_no_more_than_its_limit(plain_root_worker):
    loaded = plain_root_worker.load([{"id": "0", "source": FLOOD}], "flood.py")
    assert all(s["status"] == "ok" for s in loaded["statements"]), loaded["statements"]
    group = plain_root_worker.proc.popen.memory_group
    assert group is not None and os.path.isdir(group.path)
    before = shmem_kib()
    reply = plain_root_worker.call({"name": "flood", "version": 0}, (3 * MEMORY_MB,))
    grown = shmem_kib() - before
    # Stopped at its limit: killed by the group's out-of-memory handling, or its write refused.
    assert not (reply.ok and reply.value == 3 * MEMORY_MB), reply
    assert grown <= (MEMORY_MB + 16) * 1024, f"{grown // 1024} MiB"


@needs_cgroup
def test_a_worker_s_group_is_removed_with_it_and_takes_what_escaped_its_session_along(plain_root_worker):
    plain_root_worker.load([{"id": "0", "source": "def one():\n    return 1\n"}], "one.py")
    group = plain_root_worker.proc.popen.memory_group
    pids = group.pids()
    assert pids, "the worker runs inside its group"
    plain_root_worker.close()
    assert not os.path.exists(group.path)
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] in "ZX"


def test_without_a_memory_cgroup_the_worker_starts_as_before(monkeypatch):
    monkeypatch.setenv("DLFS_SANDBOX", "off")
    monkeypatch.setattr(spawn, "SIMULATE_MISSING", ("cgroup",))
    with WorkerClient(Limits()) as worker:
        worker.load([{"id": "0", "source": "def one():\n    return 1\n"}], "one.py")
        assert worker.proc.popen.memory_group is None
        assert worker.call({"name": "one", "version": 0}, ()).value == 1


def test_a_group_left_by_a_killed_grading_process_is_swept_by_the_next(tmp_path, monkeypatch):
    # A grader killed before it could remove its groups: the next one finds them by the dead pid in the name.
    dead = 2 ** 22 + 12345  # above pid_max's default: no such process
    stale = tmp_path / f"{memory_cgroup.PREFIX}{dead}-0"
    stale.mkdir()
    (tmp_path / f"{memory_cgroup.PREFIX}{os.getpid()}-0").mkdir()  # this process's own: kept
    monkeypatch.setattr(memory_cgroup, "_parent", [])
    monkeypatch.setattr(memory_cgroup, "_why_not", [])
    monkeypatch.setattr(memory_cgroup, "_find_parent", lambda: ((str(tmp_path), 1), ""))
    assert memory_cgroup.why_unavailable() == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{memory_cgroup.PREFIX}{os.getpid()}-0"]
