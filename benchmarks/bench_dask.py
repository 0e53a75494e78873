"""The same class through the local pool and through a loopback Dask cluster; the overhead per task.

Usage: python benchmarks/bench_dask.py [--size 500] [--workers 2] [--repeat 2] [--keep DIR]

Generates a class (bench_class.generate: correct, one-mistake, seed notebooks, broken and
hostile files), grades it with `grade class -j W` (the local pool), then starts a `dask scheduler`
and W `dask worker --nthreads 1` processes on 127.0.0.1 and grades it again with
`--scheduler`, alternating the two R times (the fastest of each is reported; the idle Dask
workers stay up during the local runs, as a standing cluster would). For each run: the wall time, the CPU seconds of the whole process tree, and the
sum of the students' own grading times (`seconds` in the records, measured where the student
was graded). From these:

* the overhead per task: (wall x W - sum of grading times) / N, worker-seconds per student
  that are not grading (staging, scheduling, transfer, writing, waiting);
* the driver's CPU per task in the Dask run (its ceiling: 1 / that, tasks per second);
* the throughput estimate for N workers: min(N / (wall x W / students), driver ceiling).

`python -c "import numpy"` is timed in the same run (the machine is shared: compare ratios).
Both gradebooks are compared (except timings) to show they are the same.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_class import ROOT, generate, numpy_import  # noqa: E402


def grade(subs: Path, out: Path, *extra: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "class", str(subs), "-o", str(out), *extra],
                          env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"grade class failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    records = [json.loads(p.read_text(encoding="utf-8")) for p in (out / ".results").glob("*.json")]
    return {"wall": wall, "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "graded": sum(r["seconds"] for r in records), "students": len(records)}


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    text = (out / "gradebook.csv").read_bytes().decode("utf-8-sig")
    return {row["student"]: {k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(io.StringIO(text))}


class LoopbackCluster:
    """A `dask scheduler` and W `dask worker` processes on 127.0.0.1, each in its own process group."""

    def __init__(self, folder: Path, workers: int) -> None:
        self.folder, self.workers, self.processes = folder, workers, []

    def _start(self, args: list[str], log: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        with open(self.folder / log, "wb") as output:
            self.processes.append(subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env=env, stdout=output,
                                                   stderr=subprocess.STDOUT, start_new_session=True))

    def __enter__(self) -> str:
        scheduler_file = self.folder / "scheduler.json"
        self._start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(scheduler_file)], "scheduler.log")
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            if time.monotonic() > deadline:
                raise SystemExit("the scheduler did not start")
            time.sleep(0.1)
        for index in range(self.workers):
            self._start(["distributed.cli.dask_worker", "--scheduler-file", str(scheduler_file), "--host",
                         "127.0.0.1", "--nthreads", "1", "--no-dashboard"], f"worker{index}.log")
        address = json.loads(scheduler_file.read_text())["address"]
        from distributed import Client

        with Client(address, set_as_default=False, timeout=30) as client:
            client.wait_for_workers(self.workers, timeout=60)
        return address

    def __exit__(self, *exc: object) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2, help="rounds of (local, dask); the fastest of each is used")
    parser.add_argument("--keep", type=Path, help="keep the class and both outputs in a new folder under DIR")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="bench-dask-", dir=args.keep))  # only this folder is ever removed
    try:
        subs = base / "class"
        generate(subs, args.size)
        numpy_before = numpy_import()
        runs: dict[str, list[dict]] = {"local": [], "dask": []}
        with LoopbackCluster(base, args.workers) as address:
            # Alternated, so that the load of other users of the machine falls on both alike.
            for round_ in range(args.repeat):
                runs["local"].append(grade(subs, base / f"local{round_}", "-j", str(args.workers)))
                runs["dask"].append(grade(subs, base / f"dask{round_}", "--scheduler", address))
                print(f"round {round_ + 1}: local {runs['local'][-1]['wall']:.1f} s, "
                      f"dask {runs['dask'][-1]['wall']:.1f} s", flush=True)
        numpy_after = numpy_import()
        same = all(gradebook(base / f"local{r}") == gradebook(base / f"dask{r}") for r in range(args.repeat))
        local, dask = (min(runs[name], key=lambda run: run["wall"]) for name in ("local", "dask"))
        report(args.size, args.workers, local, dask, (numpy_before + numpy_after) / 2, same)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


def report(size: int, workers: int, local: dict, dask: dict, numpy_s: float, same: bool) -> None:
    print(f"class of {size} students, {workers} workers, {os.cpu_count()} cores; "
          f"python -c 'import numpy': {numpy_s:.3f} s (median of 7, before and after)")
    print(f"{'run':<10}{'wall s':>9}{'CPU s':>9}{'grading s':>11}{'s/student':>11}{'overhead/task':>15}")
    per_task = {}
    for name, run in (("local", local), ("dask", dask)):
        overhead = (run["wall"] * workers - run["graded"]) / size
        per_task[name] = run["wall"] * workers / size
        print(f"{name:<10}{run['wall']:>9.1f}{run['cpu']:>9.1f}{run['graded']:>11.1f}{run['wall'] / size:>11.3f}"
              f"{overhead:>13.3f} s")
    extra = per_task["dask"] - per_task["local"]
    print(f"Dask's extra cost per task: {extra:.3f} worker-s ({extra / numpy_s:.1f}x a numpy import); "
          f"Dask run / local run: {dask['wall'] / local['wall']:.2f}x wall")
    print(f"gradebooks identical except timings: {same}")
    driver = dask["cpu"] / size  # the Dask workers are not the driver's children: this is the driver alone
    print(f"driver CPU per task: {driver * 1000:.1f} ms -> it alone could keep up with ~{1 / driver:.0f} students/s")
    print(f"per student on a Dask worker: {per_task['dask']:.3f} worker-s -> about "
          f"{1 / per_task['dask']:.2f} students/s per worker thread (where it has a core of its own)")
    for n in (2, 8, 32, 128):
        rate = min(n / per_task["dask"], 1 / driver)
        print(f"  {n:>4} workers: ~{rate:.1f} students/s, {size} students in ~{size / rate:.0f} s")


if __name__ == "__main__":
    main()
