"""Time `grade` against the NumPy floor in paired rounds, and measure one grading's peak memory.

Usage: python benchmarks/bench_grade.py [--runs N] [--memory-runs N] [--out FILE] [--baseline DIR] [--compare-others
       [--otter-zip ZIP] [--nbgrader-course DIR --nbgrader-assignment ID]] [SUBMISSION ...]

Timing. The floor is `python -c "import numpy"`: no grader of NumPy code starts faster. Every
command runs once unmeasured (file cache warm, .pyc files written, as in an installed grader);
then each of N rounds runs every command once, each right after a run of the floor of its own,
and divides its time by that floor's, so a busy moment of the shared, noisy machine slows both
sides of a ratio.
Per submission (default: correct.py and the seed notebooks in tests/fixtures): `grade SUB -f
json`, `grade SUB` (terminal report to a pipe, COLUMNS=80) and, on Linux, `grade SUB` in a
pseudo-terminal 80 columns wide (the colour report a student sees); per command, the median time
and the median and smallest per-round ratio.

Memory (Linux). While `grade SUB -f json` grades the first submission, its process tree is
sampled every ~2 ms: /proc/*/stat gives each process's parent, so the tree is the grading
process and its descendants (bwrap, the init of the worker's PID namespace, the worker's Python,
under host pids). Per pid, the last VmHWM (high-water resident set) read from /proc/PID/status
is kept (the last: the mark restarts at exec). Their sum is an upper bound on the tree's true
simultaneous peak: processes need not peak together, and shared pages (libraries, copy-on-write)
count once per process; growth in a process's last ~2 ms may be missed. Per run and the maximum.

--compare-others times otter-grader (`otter run -a ZIP NOTEBOOK`) and nbgrader (`nbgrader
autograde ID --force` in the course directory) the same way on the first notebook, if installed
and given a configured assignment. They are optional: this script never installs them.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SUBMISSIONS = [ROOT / "tests/fixtures/submissions/correct.py",
                       *(ROOT / f"tests/fixtures/seeds/seed_{i:03d}.ipynb" for i in range(5))]
GRADED = (0, 1)  # grade's exit codes for "graded" (passed, not passed); 2 and 3 are errors


@dataclass
class Command:
    label: str
    argv: list[str]
    cwd: Path = ROOT
    ok: tuple[int, ...] = (0,)
    env: dict[str, str] | None = None  # another checkout's grader (--baseline): its own PYTHONPATH
    in_terminal: bool = False  # standard output a pseudo-terminal, read to the end
    times: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    failures: int = 0


def read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:  # a process that exited meanwhile, or an unreadable script
        return b""


def which(name: str) -> str | None:
    # Run as /work/venv/bin/python without activating the venv, its bin/ is not on PATH.
    return shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


def grade_command(env: dict[str, str]) -> list[str]:
    """The installed `grade` script if its interpreter imports this checkout's grader, else `-m`."""
    script = which("grade")
    first = read(script).split(b"\n", 1)[0] if script else b""
    if first.startswith(b"#!"):  # its interpreter, asked where it finds the grader
        probe = subprocess.run([*first[2:].decode(errors="replace").split(), "-c",
                                "import grader.cli; print(grader.cli.__file__)"],
                               cwd=ROOT, env=env, capture_output=True, text=True)
        if probe.returncode == 0 and Path(probe.stdout.strip()).resolve().is_relative_to(ROOT):
            return [script]
    return [sys.executable, "-m", "grader.cli"]


def paired_rounds(floor: Command, commands: list[Command], runs: int, env: dict[str, str],
                  notes: list[str]) -> list[Command]:
    """Each command right after a run of the floor of its own: a pair a fraction of a second long,
    so a busy moment of the shared machine slows both sides of the ratio."""
    measured = list(commands)
    for round_ in range(runs + 1):  # round 0 warms up (file cache, .pyc files) and is not counted
        print(f"round {round_}/{runs}", file=sys.stderr)
        for command in list(measured):
            floor_seconds = run_once(floor, env)
            if floor_seconds is None:
                raise SystemExit(f"the floor failed: {floor.argv}")
            seconds = run_once(command, env, notes if round_ == 0 else None)
            if seconds is None:
                if round_ == 0:  # a command that cannot run is reported, not timed
                    measured.remove(command)
                command.failures += 1
                continue
            if round_:
                floor.times.append(floor_seconds)
                command.times.append(seconds)
                command.ratios.append(seconds / floor_seconds)
    floor.ratios = [1.0] * len(floor.times)
    return measured


def run_once(command: Command, env: dict[str, str], notes: list[str] | None = None) -> float | None:
    """Wall-clock seconds of one run, or None (with a note) when it exits with an unexpected status."""
    start = time.perf_counter()
    if command.in_terminal:
        done = run_in_terminal(command.argv, command.cwd, command.env or env)
    else:
        done = subprocess.run(command.argv, cwd=command.cwd, env=command.env or env, capture_output=True)
    seconds = time.perf_counter() - start
    if done.returncode in command.ok:
        return seconds
    if notes is not None:
        reason = (done.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        notes.append(f"`{command.label}` failed (exit {done.returncode}: {reason}); not measured")
    return None


def run_in_terminal(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run with standard output a pseudo-terminal 80 columns wide, read to the end (a pty's buffer
    is small: a report nobody reads would block the grader)."""
    import fcntl
    import pty
    import struct
    import termios

    main, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=terminal, stderr=subprocess.PIPE)
    os.close(terminal)
    while True:
        try:
            if not os.read(main, 65536):
                break
        except OSError:  # EIO: the grader closed its end
            break
    os.close(main)
    stderr = process.stderr.read()
    process.stderr.close()
    return subprocess.CompletedProcess(argv, process.wait(), b"", stderr)


def sample_tree(members: set[int], hwm: dict[int, int], names: dict[int, str]) -> None:
    """Add the descendants of `members` to it and record each live member's VmHWM (kB)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        stat = read(f"/proc/{entry.name}/stat") if entry.name.isdigit() else b""
        if stat:  # the command name may hold spaces and ')': the fields after the last ')' are safe
            children.setdefault(int(stat[stat.rindex(b")") + 2:].split()[1]), []).append(int(entry.name))
    # Members seen earlier stay members: a child whose parent died is reparented out of the chain.
    stack = list(members)
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in members:
                members.add(child)
                stack.append(child)
    for pid in members:
        fields = dict(line.split(b":", 1) for line in read(f"/proc/{pid}/status").splitlines() if b":" in line)
        if b"VmHWM" in fields:  # absent once a process is a zombie
            hwm[pid] = int(fields[b"VmHWM"].split()[0])
            names[pid] = fields[b"Name"].strip().decode(errors="replace")


def peak_memory(argv: list[str], env: dict[str, str]) -> tuple[float, float, float, str, int, int, int]:
    """One grading: (tree sum, own, largest other in MiB, its name, processes, samples, exit code)."""
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    members, hwm, names, samples = {proc.pid}, {}, {}, 0
    while proc.poll() is None:
        sample_tree(members, hwm, names)
        samples += 1
        time.sleep(0.002)
    others = sorted((kb, pid) for pid, kb in hwm.items() if pid != proc.pid)
    other_kb, other_pid = others[-1] if others else (0, 0)
    return (sum(hwm.values()) / 1024, hwm.get(proc.pid, 0) / 1024, other_kb / 1024,
            names.get(other_pid, "-"), len(hwm), samples, proc.returncode)


def other_graders(args: argparse.Namespace, notebook: Path | None, out_dir: str, notes: list[str]) -> list[Command]:
    commands = []
    otter = which("otter")
    if otter is None:
        notes.append("otter-grader: skipped, the `otter` command is not installed (optional, not a dependency)")
    elif args.otter_zip is None:
        notes.append("otter-grader: installed but not timed: it needs an assignment, pass --otter-zip PATH")
    elif notebook is None:
        notes.append("otter-grader: skipped, no notebook among the submissions")
    else:
        commands.append(Command(f"otter run {notebook.name}",
                                [otter, "run", "-a", str(args.otter_zip.resolve()), "-o", out_dir, str(notebook)]))
    nbgrader = which("nbgrader")
    if nbgrader is None:
        nbconvert = "installed" if which("jupyter-nbconvert") else "not installed either"
        notes.append(f"nbgrader: skipped, the `nbgrader` command is not installed (optional, not a dependency; "
                     f"jupyter nbconvert is {nbconvert})")
    elif args.nbgrader_course is None:
        notes.append("nbgrader: installed but not timed: it needs a course directory, pass --nbgrader-course DIR "
                     "--nbgrader-assignment ID (with the notebook as DIR/submitted/STUDENT/ID/NAME.ipynb)")
    else:  # nbgrader grades what the course holds, not a path: the notebook must have been put there
        notes.append(f"nbgrader: `autograde {args.nbgrader_assignment}` grades every submission in "
                     f"{args.nbgrader_course}/submitted")
        commands.append(Command(f"nbgrader autograde {args.nbgrader_assignment}",
                                [nbgrader, "autograde", args.nbgrader_assignment, "--force"],
                                cwd=args.nbgrader_course.resolve()))
    return commands


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="paired rounds (default 10)")
    parser.add_argument("--memory-runs", type=int, default=3, help="gradings sampled for memory (default 3)")
    parser.add_argument("--out", type=Path, help="also write the Markdown report to this file")
    parser.add_argument("--compare-others", action="store_true", help="time otter-grader and nbgrader if installed")
    parser.add_argument("--otter-zip", type=Path, help="otter autograder zip (with --compare-others)")
    parser.add_argument("--nbgrader-course", type=Path, help="nbgrader course directory (with --compare-others)")
    parser.add_argument("--nbgrader-assignment", help="nbgrader assignment id (with --nbgrader-course)")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="also time the grader in DIR (e.g. `git worktree add DIR <commit>`) on the same "
                             "submissions, JSON report, in the same rounds")
    parser.add_argument("submissions", nargs="*", type=Path)
    args = parser.parse_args()
    if args.runs < 1 or args.memory_runs < 0:
        parser.error("--runs must be at least 1 and --memory-runs at least 0")
    for path, is_ok in ((args.otter_zip, Path.is_file), (args.nbgrader_course, Path.is_dir)):
        if path is not None and not is_ok(path):
            parser.error(f"not found: {path}")
    if (args.nbgrader_course is None) != (args.nbgrader_assignment is None):
        parser.error("--nbgrader-course and --nbgrader-assignment go together")
    if args.baseline is not None and not any((args.baseline / "grader" / name).is_file() for name in ("cli.py", "cli/main.py")):
        parser.error(f"--baseline {args.baseline}: no grader/cli.py or grader/cli/main.py there")
    missing = [str(p) for p in args.submissions if not p.is_file()]
    if missing:
        parser.error(f"no such submission: {', '.join(missing)}")
    submissions = [p.resolve() for p in args.submissions] or [p for p in DEFAULT_SUBMISSIONS if p.is_file()]
    if not submissions:
        parser.error("no submission given and none of the default fixtures exists")

    env, notes = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="80"), []
    # An installed grader has its .pyc files (pip compiles them): without them, every run would
    # time the compiler too.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    load_before = os.getloadavg()
    grade = grade_command(env)
    floor = Command('python -c "import numpy"', [sys.executable, "-c", "import numpy"])
    commands = []
    for sub in submissions:
        commands.append(Command(f"grade {sub.name} -f json", [*grade, str(sub), "-f", "json"], ok=GRADED))
        commands.append(Command(f"grade {sub.name} (terminal)", [*grade, str(sub)], ok=GRADED))
        if sys.platform.startswith("linux"):
            commands.append(Command(f"grade {sub.name} (terminal, tty)", [*grade, str(sub)], ok=GRADED,
                                    in_terminal=True))
        if args.baseline is not None:
            commands.append(Command(f"baseline: grade {sub.name} -f json", [sys.executable, "-m", "grader.cli",
                                    str(sub), "-f", "json"], ok=GRADED, cwd=args.baseline.resolve(),
                                    # (-m puts the working folder first on sys.path: it must be DIR)
                                    env=dict(env, PYTHONPATH=str(args.baseline.resolve()))))
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as out_dir:
        if args.compare_others:
            notebook = next((p for p in submissions if p.suffix == ".ipynb"), None)
            commands += other_graders(args, notebook, out_dir, notes)
        measured = paired_rounds(floor, commands, args.runs, env, notes)
    memory = []
    if sys.platform.startswith("linux") and Path("/proc/self/status").exists():
        for i in range(args.memory_runs):
            print(f"memory run {i + 1}/{args.memory_runs}", file=sys.stderr)
            memory.append(peak_memory(commands[0].argv, env))
    else:
        notes.append(f"memory: not measured, it reads /proc (Linux only; this is {sys.platform})")
    load_after = os.getloadavg()

    def load(avg: tuple[float, float, float]) -> str:
        return " / ".join(f"{x:.2f}" for x in avg)

    lines = [f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {args.runs} paired rounds after one warm-up, "
             f"load average {load(load_before)} before, {load(load_after)} after (1 / 5 / 15 min)",
             f"grade command: `{grade[0] if len(grade) == 1 else 'python -m grader.cli'}`", "",
             "| command | median (s) | ratio to numpy (median) | ratio (min) |", "| --- | ---: | ---: | ---: |"]
    for c in [floor, *measured]:
        failed = f" ({c.failures} failed)" if c.failures else ""
        lines.append(f"| `{c.label}`{failed} | {statistics.median(c.times):.3f} | "
                     f"{statistics.median(c.ratios):.2f} | {min(c.ratios):.2f} |")
    lines.append("")
    by_label = {c.label: c for c in measured}
    for sub in submissions:
        json_, term = by_label.get(f"grade {sub.name} -f json"), by_label.get(f"grade {sub.name} (terminal)")
        tty = by_label.get(f"grade {sub.name} (terminal, tty)")
        if json_ and term:
            in_tty = f", in a terminal {statistics.median(tty.ratios) / statistics.median(json_.ratios) - 1:+.1%}" \
                if tty else ""
            lines.append(f"- {sub.name}: terminal vs json: "
                         f"{statistics.median(term.ratios) / statistics.median(json_.ratios) - 1:+.1%}{in_tty} "
                         "(median ratios)")
    if memory:  # memory: (tree, own, largest other, its name, processes, samples, exit code) per run
        lines += ["", f"Peak memory of `grade {submissions[0].name} -f json` (sum of per-process VmHWM over the tree):", "",
                  "| run | tree (MiB) | grading process (MiB) | largest other process (MiB) | processes | samples |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for i, (tree, own, other, name, count, samples, code) in enumerate(memory, 1):
            bad = f" (exit {code})" if code not in GRADED else ""
            lines.append(f"| {i}{bad} | {tree:.1f} | {own:.1f} | {other:.1f} ({name}) | {count} | {samples} |")
        lines.append(f"| **max** | {max(m[0] for m in memory):.1f} | {max(m[1] for m in memory):.1f} | "
                     f"{max(m[2] for m in memory):.1f} | {max(m[4] for m in memory)} | |")
    if notes:
        lines += ["", *(f"- {note}" for note in notes)]
    report = "\n".join(lines) + "\n"
    print(report, end="")
    if args.out:
        args.out.write_text(report)


if __name__ == "__main__":
    main()
