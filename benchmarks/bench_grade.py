"""Time `grade` on a full correct submission against `python -c "import numpy"`.

Usage: python benchmarks/bench_grade.py [--runs N] [SUBMISSION ...]

Runs each command N times (after one warm-up run) and prints a Markdown table of
the minimum and median wall-clock time. The grader is started exactly as a student
starts it: `grade FILE --format json` (and the terminal report, which also imports rich).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(command: list[str], runs: int) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # An installed grader has its modules compiled (pip writes .pyc files); a checkout gets them on
    # the first run, unless the environment forbids it, which would time the compiler instead.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(command, env=env, capture_output=True)  # warm the file cache and the .pyc files
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("submissions", nargs="*", type=Path,
                        default=[ROOT / "tests" / "fixtures" / "submissions" / "correct.py"])
    args = parser.parse_args()
    grade = [shutil.which("grade")] if shutil.which("grade") else [sys.executable, "-m", "grader.cli"]
    rows = [("python -c \"import numpy\"", measure([sys.executable, "-c", "import numpy"], args.runs))]
    for submission in args.submissions:
        rows.append((f"grade {submission.name} --format json", measure([*grade, str(submission), "-f", "json"], args.runs)))
        rows.append((f"grade {submission.name} (terminal)", measure([*grade, str(submission)], args.runs)))
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {args.runs} runs each\n")
    print("| command | min (s) | median (s) |\n| --- | ---: | ---: |")
    for name, times in rows:
        print(f"| `{name}` | {min(times):.3f} | {statistics.median(times):.3f} |")


if __name__ == "__main__":
    main()
