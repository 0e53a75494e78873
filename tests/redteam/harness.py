"""Grading a hostile submission and its honest twin, and checking what the attack left behind.

A fixture in ``fixtures/`` is a submission (.py or .ipynb) whose attack is fenced by
``#<attack>`` and ``#</attack>`` lines (in a notebook: whole cells tagged ``attack``).
Its twin is the same file without the fenced lines: where the attack was, the stub
that follows it does nothing. Files in ``fixtures/<name>.files/`` are handed in beside
the attack only. The first line says what the fixture tries:
``# redteam: <mechanism>; only=<exercise>[,<exercise>]; needs=sandbox``.

Every fixture is graded as student ``alice`` of a class folder in which classmate
``bob`` has a correct submission, with canary files around and loopback listeners
(TCP, UDP, TCP on ::1) whose ports are in ``ports.txt`` beside the submission.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

from grader.loaders.base import SubmissionError
from grader.session import grade
from grader.worker.client import Limits, WorkerClient

FIXTURES = Path(__file__).parent / "fixtures"
LIMITS = Limits(call_seconds=1.0, statement_seconds=0.5, demo_statement_seconds=0.1, demo_total_seconds=0.3,
                import_seconds=2.0, memory_mb=1024, cpu_seconds=30)
HANG_SECONDS = 120  # a grading that takes longer than this has hung
ATTACK = re.compile(r"^[ \t]*#<attack>[ \t]*\n.*?^[ \t]*#</attack>[ \t]*\n", re.S | re.M)
CANARY_TEXT = "canary: the grader's side of the machine\n"
SECRET = "dlfs-redteam-secret-4f1c"
CORRECT_SSE = "import numpy as np\ndef sum_squares_error(y, t):\n    return 0.5 * np.sum((y - t) ** 2)\n"


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    mechanism: str
    only: tuple[str, ...]
    needs_sandbox: bool

    @property
    def extra_files(self) -> Path:
        return self.path.with_name(self.path.stem + ".files")


def cases() -> list[Case]:
    found = []
    for path in sorted(FIXTURES.iterdir()):
        if path.suffix not in (".py", ".ipynb"):
            continue
        text = path.read_text(encoding="utf-8")
        header = re.search(r"# redteam: ([^\n\"]*)", text)
        assert header, f"{path.name}: no '# redteam:' line"
        parts = [p.strip() for p in header.group(1).split(";")]
        options = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        found.append(Case(path.stem, path, parts[0], tuple(options.get("only", "sum_squares_error").split(",")),
                          options.get("needs") == "sandbox"))
    return found


def twin_text(case: Case) -> str:
    text = case.path.read_text(encoding="utf-8")
    if case.path.suffix == ".ipynb":
        notebook = json.loads(text)
        notebook["cells"] = [c for c in notebook["cells"] if "attack" not in c.get("metadata", {}).get("tags", [])]
        return json.dumps(notebook)
    twin = ATTACK.sub("", text)
    assert twin != text, f"{case.name}: no #<attack> block"
    return twin


class Listeners:
    """Loopback servers an attack may try to reach; they record whatever reaches them."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        try:
            self.tcp6 = socket.create_server(("::1", 0), family=socket.AF_INET6)
        except OSError:
            self.tcp6 = None
        for server in (self.tcp, self.tcp6):
            if server is not None:
                server.settimeout(0.2)
                threading.Thread(target=self._accept, args=(server,), daemon=True).start()
        self.udp.settimeout(0.2)
        threading.Thread(target=self._receive, daemon=True).start()

    @property
    def ports(self) -> str:
        return " ".join(str(s.getsockname()[1]) if s else "0" for s in (self.tcp, self.udp, self.tcp6))

    def _accept(self, server) -> None:
        while True:
            try:
                conn, peer = server.accept()
                self.hits.append(f"tcp connection from {peer}")
                conn.close()
            except socket.timeout:
                continue
            except OSError:
                return

    def _receive(self) -> None:
        while True:
            try:
                data, peer = self.udp.recvfrom(4096)
                self.hits.append(f"udp datagram from {peer}")
            except socket.timeout:
                continue
            except OSError:
                return


@dataclass
class Outcome:
    score: float
    report_text: str
    problems: list[str] = field(default_factory=list)


def _processes_of(uid: int) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        uids = re.search(r"^Uid:\s+(\d+)", status, re.M)
        if uids and int(uids.group(1)) == uid:
            found.append(entry)
    return found


def _snapshot(paths: list[Path]) -> dict[str, bytes | None]:
    return {str(p): (p.read_bytes() if p.is_file() else None) for p in paths}


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def run(case: Case, source: str, workspace: Path, listeners: Listeners, slot: int, *, attack: bool) -> Outcome:
    """Grade ``source`` as alice's submission and list every trace it left outside its worker."""
    classroom = workspace / ("attack" if attack else "twin")
    alice, bob = classroom / "alice", classroom / "bob"
    alice.mkdir(parents=True)
    bob.mkdir()
    submission = alice / ("chapter4" + case.path.suffix)
    submission.write_text(source, encoding="utf-8")
    if attack and case.extra_files.is_dir():
        for extra in case.extra_files.iterdir():
            if extra.is_symlink():  # handed in as a link to what it points at on this machine
                os.symlink(extra.resolve(), alice / extra.name)
            else:
                shutil.copy(extra, alice / extra.name)
    (alice / "ports.txt").write_text(listeners.ports)
    (bob / "chapter4.py").write_text(CORRECT_SSE)
    (classroom / "canary.txt").write_text(CANARY_TEXT)
    shared = Path(f"/tmp/dlfs-redteam-canary-{os.getpid()}.txt")
    shared.write_text(CANARY_TEXT)
    watched = [classroom / "canary.txt", bob / "chapter4.py", shared, submission]
    before, files_before, hits_before = _snapshot(watched), _tree(classroom), len(listeners.hits)

    from conftest import builtin_manager
    worker = WorkerClient(LIMITS, slot=slot)
    problems: list[str] = []
    report = None
    old_handler = signal.signal(signal.SIGALRM, _hung)
    signal.alarm(HANG_SECONDS)
    os.environ["DLFS_REDTEAM_SECRET"] = SECRET
    try:
        report = grade(submission, builtin_manager(), worker, case.only)
    except SubmissionError:
        pass  # "could not be run at all": a clean refusal, scored 0
    except Hung:
        problems.append("the grader hung")
    except Exception as exc:  # anything else is the grader crashing
        problems.append(f"the grader crashed: {type(exc).__name__}: {exc}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old_handler)
        os.environ.pop("DLFS_REDTEAM_SECRET", None)
        folders = list(worker.folders)
        sandboxed = bool(worker.isolation and worker.isolation.sandboxed)
        worker.close()

    text = json.dumps(report.to_dict(), ensure_ascii=False) if report else ""
    if SECRET in text or any(pair in text for pair in _grader_environment()):
        problems.append("the grader's environment leaked into the report")
    if "LEAKED" in text:
        problems.append("the attack reports that it read the grader's memory")
    problems += [f"left on the machine: {p}" for p in Path("/tmp").glob("dlfs-redteam-[!c]*")]
    after = _snapshot(watched)
    problems += [f"canary changed: {p}" for p in before if before[p] != after[p]]
    if _tree(classroom) != files_before:
        problems.append(f"files changed in the class folder: {sorted(set(_tree(classroom)) ^ set(files_before))}")
    problems += [f"worker folder left behind: {f}" for f in folders if f.exists()]
    if listeners.hits[hits_before:]:
        problems.append(f"a loopback listener was reached: {listeners.hits[hits_before:]}")
    if sandboxed and os.geteuid() == 0:
        survivors = _processes_of(61184 + slot)
        if survivors:
            problems.append(f"processes survived: {survivors}")
    shared.unlink(missing_ok=True)
    return Outcome(report.score if report else 0.0, text, problems)


def _grader_environment() -> list[str]:
    """KEY=VALUE pairs of this process's own start-up environment that the worker's does not share."""
    from grader.worker.spawn import WORKER_ENV
    try:
        raw = Path("/proc/self/environ").read_bytes().decode("utf-8", "replace").split("\0")
    except OSError:
        return []
    pairs = [p for p in raw if "=" in p]
    return [p for p in pairs if p.split("=", 1)[0] not in WORKER_ENV and len(p.split("=", 1)[1]) >= 6]


class Hung(BaseException):
    pass


def _hung(signum, frame):
    raise Hung()
