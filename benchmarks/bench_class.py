"""Time `grade class` end to end on a generated class of N submissions.

Usage: python benchmarks/bench_class.py [--sizes 50 500] [--jobs 2] [--keep DIR]

The class mixes what instructors get: full correct files (40 %), one-mistake files (35 %, every
mistake fixture in turn), the five seed notebooks with their training loops (20 %), syntax
errors (3 %) and hostile files (2 %: os._exit, sys.exit, a 10 MB print with forbidden imports,
an infinite loop under the default 5 s per-call limit). Each file gets its own comment line,
so no two students hand in the same bytes.

For each size it prints the wall time of `grade class SUBMISSIONS -o OUTDIR -j J`, the CPU
seconds of the whole process tree (grader, pool processes and every worker) per submission,
and the peak of the summed resident memory of that tree (sampled every 50 ms), next to
`python -c "import numpy"` timed in the same run (the machine is shared: compare ratios).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
PAGE = os.sysconf("SC_PAGE_SIZE")


def generate(folder: Path, count: int) -> dict[str, int]:
    """Write ``count`` submissions into ``folder``; returns how many of each kind."""
    correct = (FIXTURES / "submissions" / "correct.py").read_text(encoding="utf-8")
    mistakes = [p.read_text(encoding="utf-8") for p in sorted((FIXTURES / "submissions").glob("mistake_*.py"))]
    seeds = [p.read_text(encoding="utf-8") for p in sorted((FIXTURES / "seeds").glob("seed_*.ipynb"))]
    hostile = [(FIXTURES / "submissions" / f"hostile_{n}.py").read_text(encoding="utf-8")
               for n in ("os_exit", "sys_exit", "misc", "infinite_loop")]
    kinds = {"correct": 0, "one mistake": 0, "seed notebook": 0, "broken": 0, "hostile": 0}
    folder.mkdir(parents=True)
    for i in range(count):
        slot = (i * 37) % 100  # spread: any class size gets the whole mix
        if slot < 40:
            kind, text, suffix = "correct", correct, ".py"
        elif slot < 75:
            kind, text, suffix = "one mistake", mistakes[i % len(mistakes)], ".py"
        elif slot < 95:
            kind, text, suffix = "seed notebook", seeds[i % len(seeds)], ".ipynb"
        elif slot < 98:
            kind, text, suffix = "broken", correct.replace("def numerical_diff(f, x):", "def numerical_diff(f, x:"), ".py"
        else:
            kind, text, suffix = "hostile", hostile[(i // 100 * 2 + slot - 98) % len(hostile)], ".py"
        if suffix == ".py":
            text = f"# student {i:05d}\n" + text
        else:  # a notebook stays valid JSON: the marker goes into its metadata
            notebook = json.loads(text)
            notebook.setdefault("metadata", {})["student"] = i
            text = json.dumps(notebook, ensure_ascii=False, indent=1)
        (folder / f"student{i:05d}{suffix}").write_text(text, encoding="utf-8")
        kinds[kind] += 1
    return kinds


def tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (workers sit in their own sessions, not groups)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm") as f:
                rss[int(entry)] = int(f.read().split()[1]) * PAGE
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, ()))
    return total


def run_class(subs: Path, out: Path, jobs: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "grader.cli", "class", str(subs), "-o", str(out), "-j", str(jobs)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"grade class failed ({proc.returncode}):\n{stdout[-2000:]}\n{stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    errors = next((line for line in stdout.splitlines() if " in error" in line), "")
    return {"wall": wall, "cpu": cpu, "peak_mb": peak[0] / 2 ** 20, "summary": errors}


def numpy_import(runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import numpy"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


LOAD_ONCE = """
import time
started = time.perf_counter()
from grader.plugins import make_manager
from grader.specs.loading import load_exercises
for exercise in load_exercises(make_manager()):
    exercise.load_reference()
print(time.perf_counter() - started)
"""

WORKER_READY = """
import time
from grader.worker.client import Limits, WorkerClient
times = []
for _ in range(7):
    started = time.perf_counter()
    with WorkerClient(Limits()) as worker:
        worker.start()
        worker._await_ready()
        times.append(time.perf_counter() - started)
times.sort()
print(times[len(times) // 2])
"""


def components(runs: int = 5) -> dict[str, float]:
    """What each measure of the class run saves per student, timed directly (medians)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    load = statistics.median(float(subprocess.run([sys.executable, "-c", LOAD_ONCE], env=env, capture_output=True,
                                                  text=True, check=True).stdout) for _ in range(runs))
    ready = float(subprocess.run([sys.executable, "-c", WORKER_READY], env=env, capture_output=True, text=True,
                                 check=True).stdout)
    return {"plugins, specs and answer key (loaded once per pool process)": load,
            "a worker from start to ready (started ahead of need)": ready}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 500])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", type=Path, help="keep the generated classes and outputs here")
    parser.add_argument("--components", action="store_true", help="also time what each measure saves per student")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-class-"))
    numpy_before = numpy_import()
    rows = []
    for size in args.sizes:
        subs, out = base / f"class{size}", base / f"graded{size}"
        shutil.rmtree(subs, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        kinds = generate(subs, size)
        result = run_class(subs, out, args.jobs)
        rows.append((size, kinds, result))
        print(f"{size}: {result['wall']:.1f} s wall, {result['cpu'] / size:.3f} core-s/submission, "
              f"peak {result['peak_mb']:.0f} MB ({result['summary'].strip()})", flush=True)
    numpy_after = numpy_import()
    print(f"\n{os.cpu_count()} cores, Python {sys.version.split()[0]}, -j {args.jobs}; "
          f"`python -c \"import numpy\"`: {numpy_before:.3f} s before, {numpy_after:.3f} s after\n")
    print("| submissions | wall (s) | per submission (s) | core-s per submission | core-s / numpy import "
          "| peak RSS of the tree (MB) |\n| ---: | ---: | ---: | ---: | ---: | ---: |")
    numpy_median = (numpy_before + numpy_after) / 2
    for size, _kinds, r in rows:
        print(f"| {size} | {r['wall']:.1f} | {r['wall'] / size:.3f} | {r['cpu'] / size:.3f} | "
              f"{r['cpu'] / size / numpy_median:.2f} | {r['peak_mb']:.0f} |")
    print("\nmix:", ", ".join(f"{k} {v}" for k, v in rows[-1][1].items()))
    if args.components:
        print("\n| per student, without the measure (s) | median |\n| --- | ---: |")
        for name, seconds in components().items():
            print(f"| {name} | {seconds:.3f} |")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
