"""Grading a hostile class folder and its honest twin with `grade class`, and checking what the run left.

The attacks here are on the class run itself, not on a worker: names, folders and hand-ins
that once stopped `grade class` for everyone (exit 3), overwrote a classmate's report, leaked
this machine's paths into the gradebook, kept a stale grade, or made a spreadsheet run a formula.

A fixture in ``fixtures/class_runs/`` is a module with a ``MECHANISM`` line and
``build(subs, attack) -> str``: it lays out the class (the classmates, the same in both runs,
and the attacker's hand-in: hostile when ``attack``, the same work under honest names when
not) and returns the attacker's student id. An optional ``change(subs, attack)`` runs between
a first run and a second into the same OUTDIR (a rerun after the hand-in changed).

Each run gets its own TMPDIR, its own process session and loopback listeners, so that what it
leaves behind is its own: processes, temporary folders, connections, changed files.
"""
from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import levels
from harness import Listeners

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures" / "class_runs"
CODE = b"import numpy as np\n\n\ndef sum_squares_error(y, t):\n    return 0.5 * np.sum((y - t) ** 2)\n"
WRONG = b"def sum_squares_error(y, t):\n    return 0.0\n"
SECRET = "dlfs-redteam-class-secret-7d2e"  # the same for the attack and its twin: the same random inputs
RUN_SECONDS = 600  # far past any class of four: a run that takes longer has hung
FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ClassCase:
    name: str
    mechanism: str
    module: ModuleType


def cases() -> list[ClassCase]:
    found = []
    for path in sorted(FIXTURES.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"class_fixture_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found.append(ClassCase(path.stem, module.MECHANISM, module))
    return found


def classmates(subs: Path) -> None:
    """The honest classmates every fixture's class holds: a correct one and a wrong one."""
    subs.mkdir(parents=True, exist_ok=True)
    (subs / "bob.py").write_bytes(CODE)
    (subs / "carol.py").write_bytes(WRONG)


@dataclass
class Outcome:
    rows: dict[str, dict]  # student -> their gradebook.json row (report left out)
    attacker: str
    problems: list[str] = field(default_factory=list)

    @property
    def attacker_score(self) -> float:
        return float(self.rows.get(self.attacker, {}).get("score", 0.0))

    def classmates(self, attacker_side: set[str]) -> dict[str, tuple]:
        return {name: (row["score"], row["error"], row["error_kind"]) for name, row in self.rows.items()
                if name not in attacker_side}


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` (any depth: a loop, not recursion) and each file's bytes."""
    found: dict[str, bytes | None] = {}
    stack = [folder]
    while stack:
        current = stack.pop()
        with os.scandir(current) as listing:
            for entry in listing:
                key = os.fsencode(entry.path)[len(os.fsencode(folder)):].decode("utf-8", "backslashreplace")
                if entry.is_dir(follow_symlinks=False):
                    found[key] = None
                    stack.append(Path(entry.path))
                else:
                    found[key] = Path(entry.path).read_bytes() if entry.is_file(follow_symlinks=False) else b"?"
    return found


def _session_processes(session: int) -> list[str]:
    """Processes still in the run's session (its pool, its workers' launchers), the run's own pid aside."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == session:
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == session:
            found.append(entry)
    return found


def _processes_naming(text: str) -> list[str]:
    """Processes whose command line names ``text`` (the run's own TMPDIR: a sandbox's bind mounts do)."""
    found = []
    needle = text.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if needle in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(entry)
        except OSError:
            continue
    return found


# Where the class runs: "namespaces" is the grader as it is (bubblewrap); "plain" is a machine
# without namespaces (a root container), DLFS_SANDBOX=off, which `grade class` accepts only with
# --allow-weak-isolation; "user" is the same run by an ordinary uid (a laptop or CI runner without
# user namespaces), made from the outside with setpriv as tests/redteam/levels.py makes its levels.
# The attacks here are on names, hashes and files, not on the sandbox: each must fail at all three.
LEVELS = ("namespaces", "plain", "user")


def hand_to_user(folder: Path) -> None:
    """Give ``folder`` and everything under it (any depth: a loop, not recursion) to the "user"
    level's uid, as the folders of a teacher who is not root are theirs."""
    stack = [folder]
    os.lchown(folder, levels.USER_UID, levels.USER_UID)
    while stack:
        with os.scandir(stack.pop()) as listing:
            for entry in listing:
                os.lchown(entry.path, levels.USER_UID, levels.USER_UID)
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))


def grade_class(subs: Path, out: Path, tmp: Path, secret_file: Path,
                level: str = "namespaces") -> tuple[subprocess.CompletedProcess, int]:
    """`grade class` as an instructor runs it, in a session and a TMPDIR of its own."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1", TMPDIR=str(tmp))
    env.pop("DLFS_GRADER_SECRET", None)
    python, prefix = sys.executable, []
    if level == "plain":  # the workers' uids must be able to run it (levels.PYTHON)
        python = levels.PYTHON
    if level == "user":
        python, prefix = levels.PYTHON, levels._as(levels.USER_UID)
        env["HOME"] = str(subs.parent / "home")  # root's home is not theirs (the overview's plots cache fonts there)
        (subs.parent / "home").mkdir(exist_ok=True)
        hand_to_user(subs.parent)
    command = prefix + [python, "-m", "grader.cli", "class", str(subs), "-o", str(out), "-j", "2",
                        "--only", "sum_squares_error", "--secret-file", str(secret_file)]
    if level in ("plain", "user"):
        env["DLFS_SANDBOX"] = "off"
        command.append("--allow-weak-isolation")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=RUN_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        stderr += "\n(the run hung and was killed)"
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr), process.pid


def check_run(proc: subprocess.CompletedProcess, pid: int, subs: Path, out: Path, tmp: Path,
              before: dict[str, bytes | None], canary: Path) -> list[str]:
    problems = []
    if proc.returncode != 0 or "Traceback" in proc.stdout + proc.stderr:
        problems.append(f"the grader crashed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    deadline = time.monotonic() + 30  # a killed worker's launcher is reaped by its own parent, soon
    while (_session_processes(pid) or _processes_naming(str(tmp))) and time.monotonic() < deadline:
        time.sleep(0.2)
    problems += [f"process left running: {p}" for p in _session_processes(pid) + _processes_naming(str(tmp))]
    problems += [f"left in TMPDIR: {p.name}" for p in tmp.iterdir()]
    if snapshot(subs) != before:
        problems.append("SUBMISSIONS changed")
    if canary.read_bytes() != b"canary\n":
        problems.append("the canary beside SUBMISSIONS changed")
    host_paths = {str(p).encode() for p in (subs, out, tmp, subs.parent)}
    for path in out.rglob("*"):
        if path.is_file() and path.name != ".instructor-secret":
            data = path.read_bytes()
            problems += [f"{path.name} holds the host path {h.decode()}" for h in host_paths if h in data]
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                problems.append(f"{path.name} is not UTF-8")
    return problems


# The isolation every graded student's report must name, by level (on a kernel without Landlock the
# two plain levels lose their "landlock+"): made from the outside, never asked of the grader.
ISOLATION = {"namespaces": ("namespaces+seccomp",), "plain": ("uid+landlock+seccomp", "uid+seccomp"),
             "user": ("landlock+seccomp", "seccomp")}


def check_level(out: Path, level: str) -> list[str]:
    problems = []
    for page in (out / "reports").glob("*.json"):
        named = json.loads(page.read_text(encoding="utf-8")).get("isolation")
        if named is not None and named not in ISOLATION[level]:
            problems.append(f"{page.stem}'s report names {named!r}, not the {level} level's {ISOLATION[level]}")
    return problems


def check_outputs(out: Path) -> tuple[dict[str, dict], list[str]]:
    """The gradebook's rows by student, and what is wrong with the outputs as a whole."""
    problems: list[str] = []
    try:
        book = json.loads((out / "gradebook.json").read_text(encoding="utf-8"))
        text = (out / "gradebook.csv").read_text(encoding="utf-8-sig")
    except (OSError, ValueError) as exc:
        return {}, [f"no gradebook: {exc}"]
    rows = {s["student"]: {k: v for k, v in s.items() if k != "report"} for s in book["students"]}
    if len(rows) != len(book["students"]):
        problems.append("two rows share a student")
    slugs = [row["slug"].casefold() for row in rows.values()]
    if len(set(slugs)) != len(slugs):
        problems.append(f"two students share a report file: {sorted(slugs)}")
    records = {}
    for path in (out / ".results").glob("*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        records[record["student"]] = (path.stem, record)
    for name, row in rows.items():
        stem, record = records.get(name, (None, None))
        if record is None or stem != row["slug"] or record["error"] != row["error"]:
            problems.append(f"{name}'s record is missing or another's")
        page = out / "reports" / f"{row['slug']}.json"
        if not page.is_file():
            problems.append(f"{name} has no report")
        elif row["error"] == "":
            report = json.loads(page.read_text(encoding="utf-8"))
            if report.get("submission") != ", ".join(row["files"]):
                problems.append(f"{name}'s report is another student's")
        if row["error_kind"] == "internal":
            problems.append(f"{name}: an internal error: {row['error']}")
    for delimiter in (",", ";", "\t"):  # as spreadsheets split it, quotes honoured or not
        cells = [c for r in csv.reader(io.StringIO(text), delimiter=delimiter) for c in r]
        cells += [c.strip('"') for line in text.splitlines() for c in line.split(delimiter)]
        problems += [f"a cell starts a formula: {c!r}" for c in cells if c.lstrip(" ").startswith(FORMULA)]
    return rows, problems


def run(case: ClassCase, workspace: Path, listeners: Listeners, *, attack: bool,
        level: str = "namespaces") -> Outcome:
    """Build the class, grade it (and again after ``change``, if the fixture has one); what went wrong."""
    base = workspace / ("attack" if attack else "twin")
    subs, out, tmp = base / "submissions", base / "graded", base / "tmp"
    tmp.mkdir(parents=True)
    classmates(subs)
    attacker = case.module.build(subs, attack)
    canary = base / "canary.txt"
    canary.write_bytes(b"canary\n")
    secret_file = base / "secret.txt"
    secret_file.write_text(SECRET)
    (subs.parent / "ports.txt").write_text(listeners.ports)
    hits = len(listeners.hits)
    problems: list[str] = []
    rounds = 2 if hasattr(case.module, "change") else 1
    for number in range(rounds):
        if number:
            case.module.change(subs, attack)
        before = snapshot(subs)
        proc, pid = grade_class(subs, out, tmp, secret_file, level)
        problems += check_run(proc, pid, subs, out, tmp, before, canary)
    rows, output_problems = check_outputs(out)
    problems += output_problems + check_level(out, level)
    if listeners.hits[hits:]:
        problems.append(f"a loopback listener was reached: {listeners.hits[hits:]}")
    if attacker not in rows:
        problems.append(f"the attacker {attacker!r} has no row: {sorted(rows)}")
    return Outcome(rows, attacker, problems)
