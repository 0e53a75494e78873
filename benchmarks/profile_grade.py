"""Where the time of one `grade` goes: a timeline of both processes, imports by package, top functions.

Usage: python benchmarks/profile_grade.py [SUBMISSION] [--format json] [--runs N] [--out FILE]

Runs `grade SUBMISSION -f FORMAT` in a child interpreter exactly as the command does, with a
tracer that only records when things happen (no change to the grader): when the interpreter
was up, when the worker was spawned and said it was ready, the load, each exercise, every
round trip to the worker (and how long the grading process waited for it), the report, and
the exit. Then it runs the same command once under `-X importtime` (imports grouped by top
package) and once under cProfile (the functions of the grading process that cost most).
The timeline is the median over --runs runs; `python -c "import numpy"` of the same rounds is
given for scale. Print to stdout, or to --out as Markdown (benchmarks/PROFILE.md).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "tests" / "fixtures" / "submissions" / "correct.py"

# Runs in the child: wraps a few grader functions to stamp CLOCK_MONOTONIC (shared by every
# process of the machine, so the parent's launch time and the child's stamps line up).
TRACER = r"""
import json, sys, time
stamps = [("interpreter up", time.monotonic())]
waits = []
out_path = sys.argv.pop(1)

def stamp(name):
    stamps.append((name, time.monotonic()))

def wrap(owner, attr, before=None, after=None, waited=False):
    original = getattr(owner, attr)
    def wrapper(*args, **kwargs):
        if before:
            stamp(before(*args) if callable(before) else before)
        start = time.monotonic()
        try:
            return original(*args, **kwargs)
        finally:
            if waited:
                waits.append(time.monotonic() - start)
            if after:
                stamp(after(*args) if callable(after) else after)
    setattr(owner, attr, wrapper)

import importlib.abc, importlib.machinery

# The grader imports most of its modules late (that is part of its speed): each wrapper is
# installed when its module has been executed, not by importing the module here.
AFTER_IMPORT = {}

class AfterImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in AFTER_IMPORT:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None:
            return None
        execute = spec.loader.exec_module
        def exec_module(module):
            execute(module)
            AFTER_IMPORT.pop(name)(module)
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, AfterImport())

def on_spawn(module):
    stamp("grader.worker.spawn imported")
    wrap(module, "spawn", "spawn worker", "worker process started")

def on_client(module):
    wrap(module.WorkerClient, "_await_ready", None, "worker ready (hello read)")
    wrap(module.WorkerClient, "start_load", None, "load request sent (if it fits the pipe)")
    wrap(module.WorkerClient, "finish_load", "waiting for the load", "load done")
    wrap(module.WorkerClient, "_read", waited=True)

def on_tree(module):
    import select, threading
    init = module.ProcessTree.__init__
    def watched(self, popen):
        init(self, popen)
        def watch(fd=self.fd_out):  # select() does not consume: the grader still reads every byte
            select.select([fd], [], [], 30)
            stamp("worker's hello arrived")
        threading.Thread(target=watch, daemon=True).start()
    module.ProcessTree.__init__ = watched

def on_plugins(module):
    wrap(module, "make_manager", "plugin manager: start", "plugin manager: built")

def on_session(module):
    stamp("grader.session imported")
    wrap(module, "grade_exercise", lambda exercise, *a: f"exercise {exercise.id}", None)
    wrap(module, "add_dependency_notes", "exercises done", None)

def on_spec_loading(module):
    wrap(module, "load_exercises", None, "exercise specs loaded")

def on_handover(module):
    wrap(module, "load_submission", "submission: read", "submission: parsed")

AFTER_IMPORT.update({"grader.worker.spawn": on_spawn, "grader.worker.client": on_client,
                     "grader.session": on_session, "grader.plugins": on_plugins,
                     "grader.specs.loading": on_spec_loading,
                     "grader.worker.tree": on_tree,
                     "grader.submission.handover": on_handover})
import grader.cli as cli
stamp("grader.cli imported")
wrap(cli, "_run", "arguments checked", None)
wrap(cli, "_write", "report rendering", "report written")
stamp("tracer installed")
main = cli.main

def traced_main(argv):
    try:
        return main(argv)
    finally:
        stamp("main returned")
        with open(out_path, "w") as handle:
            json.dump({"stamps": stamps, "waits": waits}, handle)

cli.main = traced_main
cli.run()  # as the `grade` command: main(), then exit
"""


def environment() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules compiled once, not on every run
    return env


def timeline(submission: Path, fmt: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "stamps.json"
        launched = time.monotonic()
        subprocess.run([sys.executable, "-c", TRACER, str(out), str(submission), "-f", fmt],
                       env=environment(), capture_output=True)
        ended = time.monotonic()
        data = json.loads(out.read_text())
    stamps = [("launch", launched)] + [tuple(s) for s in data["stamps"]] + [("process exited", ended)]
    return {"stamps": [(name, t - launched) for name, t in stamps], "waits": data["waits"]}


def numpy_floor() -> float:
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", "import numpy"], env=environment(), capture_output=True)
    return time.monotonic() - start


def median_timeline(runs: list[dict]) -> list[tuple[str, float]]:
    """Each event's median time; events are matched by name and order of appearance."""
    keyed: dict[tuple[str, int], list[float]] = {}
    order: list[tuple[str, int]] = []
    for run in runs:
        seen: dict[str, int] = {}
        for name, t in run["stamps"]:
            key = (name, seen.get(name, 0))
            seen[name] = key[1] + 1
            if key not in keyed:
                keyed[key] = []
                order.append(key)
            keyed[key].append(t)
    rows = [(name, statistics.median(keyed[(name, n)])) for name, n in order]
    return sorted(rows, key=lambda row: row[1])


def imports_by_package(submission: Path, fmt: str) -> list[tuple[str, float]]:
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "grader.cli", str(submission), "-f", fmt],
                            env=environment(), capture_output=True, text=True)
    totals: dict[str, float] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _, name = line.split("|")
        try:
            micros = int(own.split(":")[-1])
        except ValueError:
            continue
        package = name.strip().split(".")[0]
        if package == "grader":
            package = ".".join(name.strip().split(".")[:2])
        totals[package] = totals.get(package, 0.0) + micros / 1e6
    return sorted(totals.items(), key=lambda item: -item[1])


def top_functions(submission: Path, fmt: str, count: int) -> str:
    import pstats
    from io import StringIO
    with tempfile.TemporaryDirectory() as folder:
        stats_file = Path(folder) / "grade.prof"
        # In-process around main(): the command itself ends with os._exit, before cProfile could write.
        code = ("import cProfile, sys; from grader.cli import main; profile = cProfile.Profile(); "
                "profile.enable(); main(sys.argv[2:]); profile.disable(); profile.dump_stats(sys.argv[1])")
        subprocess.run([sys.executable, "-c", code, str(stats_file), str(submission), "-f", fmt], env=environment(),
                       capture_output=True)
        text = StringIO()
        stats = pstats.Stats(str(stats_file), stream=text)
        stats.strip_dirs().sort_stats("tottime").print_stats(count)
    lines = text.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    return "\n".join(line for line in lines[start:] if line.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submission", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--format", default="json")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    timeline(args.submission, args.format)  # warm the file cache and the .pyc files
    runs, floors = [], []
    for _ in range(args.runs):
        floors.append(numpy_floor())
        runs.append(timeline(args.submission, args.format))
    floor = statistics.median(floors)
    rows = median_timeline(runs)
    total = dict(rows)["process exited"]
    waits = [sum(run["waits"]) for run in runs]
    trips = [len(run["waits"]) for run in runs]
    lines = [f"# Profile of `grade {args.submission.name} -f {args.format}`", "",
             f"Recorded with `python benchmarks/profile_grade.py {args.submission.relative_to(ROOT) if args.submission.is_absolute() and args.submission.is_relative_to(ROOT) else args.submission} "
             f"--format {args.format} --runs {args.runs}`; {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
             f"load average {os.getloadavg()[0]:.2f} at the end.", "",
             f"`python -c \"import numpy\"` median {floor * 1000:.0f} ms; this grade median {total * 1000:.0f} ms, "
             f"**{total / floor:.2f}x** the floor.", "",
             "## Timeline (median over the runs, ms since the launch of the grading process)", "",
             "Two processes run side by side: the grading process (every row but two) and the worker, which is",
             "spawned first and imports NumPy while the grading process loads itself. \"worker's hello arrived\"",
             "is when the worker said it was ready (seen without reading it); \"load request sent\" is when the",
             "submission was handed over (the worker reads it once ready). From \"waiting for the load\" on, the",
             "grading process asks and the worker answers; the exercises' rows mark when each began.", "",
             "| event | ms | ms since previous |", "| --- | ---: | ---: |"]
    previous = 0.0
    for name, t in rows:
        lines.append(f"| {name} | {t * 1000:.1f} | {(t - previous) * 1000:.1f} |")
        previous = t
    lines += ["", f"Frames read from the worker: {statistics.median(trips):.0f} per grade; the grading process "
              f"waited {statistics.median(waits) * 1000:.1f} ms for them in all (the worker's work plus the pipe).",
              "", "## Imports of the grading process, by package (`-X importtime`, own time, one run)", "",
              "| package | ms |", "| --- | ---: |"]
    imports = imports_by_package(args.submission, args.format)
    for package, seconds in imports[:20]:
        lines.append(f"| {package} | {seconds * 1000:.1f} |")
    lines.append(f"| **all** | {sum(s for _, s in imports) * 1000:.1f} |")
    lines += ["", f"## The grading process's {args.top} costliest functions (cProfile, own time, one run)", "",
              "```", top_functions(args.submission, args.format, args.top), "```", ""]
    text = "\n".join(lines)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"written to {args.out}")
    else:
        print(text)


if __name__ == "__main__":
    main()
