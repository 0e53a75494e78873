"""What each isolation layer costs per submission, as paired ratios to `python -c "import numpy"`.

Usage: python benchmarks/bench_isolation.py [--runs N] [--baseline DIR] [SUBMISSION]

Two tables:

1. The worker alone, per layer: start a worker, load the submission, close it (the
   process tree killed and waited for), for each configuration: a plain process; plus
   the seccomp filter; bubblewrap namespaces with an unprivileged uid; both (the default).
2. The whole `grade SUBMISSION -f json`, as a student runs it: the default (strongest
   level), DLFS_SANDBOX=off (no namespaces), and, with ``--baseline DIR``, the grader
   before this work (a `git archive` of an earlier commit unpacked in DIR).

Every round runs every command once, in turn, right after one `python -c "import numpy"`;
each figure is the median over rounds of (command time / numpy time in that round), so a
machine busy with other work moves both sides of each ratio alike.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LAYERS = {
    "plain process (audit hook, rlimits)": dict(sandbox=False, missing=("seccomp",)),
    "+ seccomp filter": dict(sandbox=False, missing=()),
    "namespaces + unprivileged uid (bwrap)": dict(sandbox=None, missing=("seccomp",)),
    "namespaces + seccomp (default)": dict(sandbox=None, missing=()),
}


def timed(command: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, capture_output=True, check=False)
    return time.perf_counter() - start


def worker_cycle(source: str, sandbox: bool | None, missing: tuple[str, ...]) -> tuple[float, str]:
    from grader.worker import spawn
    from grader.worker.client import WorkerClient
    spawn.SIMULATE_MISSING = missing
    start = time.perf_counter()
    worker = WorkerClient(sandbox=sandbox)
    worker.load([{"id": "0", "source": source}], "submission.py")
    level = worker.isolation.level
    worker.close()
    return time.perf_counter() - start, level


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--baseline", type=Path, help="an unpacked earlier version of the grader to compare with")
    parser.add_argument("submission", nargs="?", type=Path,
                        default=ROOT / "tests" / "fixtures" / "submissions" / "correct.py")
    args = parser.parse_args()
    numpy = [sys.executable, "-c", "import numpy"]
    source = args.submission.read_text(encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    commands = {"grade (default: strongest level)": ([sys.executable, "-m", "grader.cli", str(args.submission),
                                                     "-f", "json"], env),
                "grade, DLFS_SANDBOX=off": ([sys.executable, "-m", "grader.cli", str(args.submission), "-f", "json"],
                                            dict(env, DLFS_SANDBOX="off"))}
    if args.baseline:
        commands["grade, baseline version"] = ([sys.executable, "-m", "grader.cli", str(args.submission), "-f", "json"],
                                               dict(env, PYTHONPATH=str(args.baseline)))
    for command, command_env in commands.values():  # warm the file cache and the .pyc files
        timed(command, command_env)
    for config in LAYERS.values():
        worker_cycle(source, **config)

    layer_ratios: dict[str, list[float]] = {name: [] for name in LAYERS}
    layer_times: dict[str, list[float]] = {name: [] for name in LAYERS}
    levels: dict[str, str] = {}
    grade_ratios: dict[str, list[float]] = {name: [] for name in commands}
    grade_times: dict[str, list[float]] = {name: [] for name in commands}
    numpy_times = []
    for _ in range(args.runs):
        base = timed(numpy)
        numpy_times.append(base)
        for name, config in LAYERS.items():
            seconds, levels[name] = worker_cycle(source, **config)
            layer_times[name].append(seconds)
            layer_ratios[name].append(seconds / base)
        for name, (command, command_env) in commands.items():
            seconds = timed(command, command_env)
            grade_times[name].append(seconds)
            grade_ratios[name].append(seconds / base)

    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {args.runs} rounds, "
          f"`python -c \"import numpy\"` median {statistics.median(numpy_times):.3f} s\n")
    print("| worker start + load + close | level reported | median (s) | ratio to numpy (median) |")
    print("| --- | --- | ---: | ---: |")
    for name in LAYERS:
        print(f"| {name} | {levels[name]} | {statistics.median(layer_times[name]):.3f} | "
              f"{statistics.median(layer_ratios[name]):.2f} |")
    print("\n| whole grading | median (s) | ratio to numpy (median) |\n| --- | ---: | ---: |")
    for name in commands:
        print(f"| `{name}` | {statistics.median(grade_times[name]):.3f} | {statistics.median(grade_ratios[name]):.2f} |")


if __name__ == "__main__":
    main()
