"""Time `grade` on submissions of 1k to 64k top-level statements: the cost must grow linearly.

Usage: python benchmarks/bench_size.py [--runs N] [--sizes 1000 4000 16000 64000]

Each submission is one .py file repeating a block a learner's notebook is made of: an
assignment, a function definition, a list built from them, a print, and now and then a
class; one of the functions is the graded sum_squares_error. Every size is graded with
`grade FILE --only sum_squares_error --format json`, beside `python -c "import numpy"` in the
same run; the table gives seconds, seconds per 1,000 statements and the ratio to NumPy's start.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = ("a{i} = {i}\n"
         "def f{i}(x):\n    return x + a{i}\n"
         "b{i} = [a{i}, {i}]\n"
         "print(a{i})\n")
CLASS = "class C{i}:\n    def m(self):\n        return {i}\n"
GRADED = "import numpy as np\ndef sum_squares_error(y, t):\n    return 0.5 * np.sum((y - t) ** 2)\n"


def submission(statements: int) -> str:
    parts, count, i = [GRADED], 2, 0
    while count < statements:
        parts.append(BLOCK.format(i=i))
        count += 4
        if i % 25 == 0:
            parts.append(CLASS.format(i=i))
            count += 1
        i += 1
    return "".join(parts)


def measure(command: list[str], runs: int) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True)
        times.append(time.perf_counter() - start)
        if result.returncode not in (0, 1):
            raise SystemExit(f"{command} failed: {result.stderr.decode()[-500:]}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 4000, 16000, 64000])
    args = parser.parse_args()
    numpy = statistics.median(measure([sys.executable, "-c", "import numpy"], args.runs))
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {args.runs} runs each, "
          f"`python -c \"import numpy\"`: {numpy:.3f} s (median)\n")
    print("| statements | median (s) | s per 1,000 statements | ratio to import numpy |\n| ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            path = Path(folder) / f"size_{size}.py"
            path.write_text(submission(size), encoding="utf-8")
            command = [sys.executable, "-m", "grader.cli", str(path), "--only", "sum_squares_error", "-f", "json"]
            median = statistics.median(measure(command, args.runs))
            print(f"| {size:,} | {median:.2f} | {median / size * 1000:.3f} | {median / numpy:.1f} |")


if __name__ == "__main__":
    main()
