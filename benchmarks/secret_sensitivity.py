"""Does a verdict depend on which random inputs the instructor's secret drew?

The same submission graded under different secrets meets different random cases. A student's
mistake should be caught (and named) whatever the draw: a score or a diagnosis that changes
with the secret is a case generator that sometimes misses the mistake, or a diagnosis rule that
fits by chance. This grades every given file or folder under N secrets and lists every one
whose score, statuses or diagnoses change.

    python benchmarks/secret_sensitivity.py [-n 8] [-j 2] PATH...
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def verdict(path: Path, secret: str) -> tuple:
    env = dict(os.environ, DLFS_GRADER_SECRET=secret, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "grader.cli", str(path), "-f", "json"], capture_output=True,
                          text=True, env=env, cwd=ROOT)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        return ("unreadable", proc.returncode, proc.stderr[-200:])
    return (report["score"],
            tuple((e["id"], e["status"], tuple(d["id"] for d in e["diagnoses"])) for e in report["exercises"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("-n", type=int, default=8, help="secrets per submission")
    parser.add_argument("-j", type=int, default=2)
    args = parser.parse_args()
    secrets = [f"sensitivity-{i}" for i in range(args.n)]
    jobs = [(p, s) for p in args.paths for s in secrets]
    with ThreadPoolExecutor(args.j) as pool:
        results = list(pool.map(lambda job: verdict(*job), jobs))
    varying = 0
    for i, path in enumerate(args.paths):
        seen = results[i * args.n:(i + 1) * args.n]
        if len(set(seen)) == 1:
            print(f"same      {path}  {seen[0][0]}")
            continue
        varying += 1
        print(f"VARIES    {path}  scores {sorted({v[0] for v in seen if v[0] != 'unreadable'})}")
        base = seen[0]
        for secret, other in zip(secrets[1:], seen[1:]):
            if other == base or other[0] == "unreadable" or base[0] == "unreadable":
                continue
            for a, b in zip(base[1], other[1]):
                if a != b:
                    print(f"    {secret}: {a[0]}: {a[1]} {list(a[2])} -> {b[1]} {list(b[2])}")
    print(f"{varying} of {len(args.paths)} submissions vary across {args.n} secrets")
    return 1 if varying else 0


if __name__ == "__main__":
    sys.exit(main())
