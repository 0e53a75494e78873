"""Check that a speed-up changed no report: grade every fixture with another checkout and this one.

Usage: python benchmarks/same_reports.py --baseline DIR [--jobs N]

DIR is another checkout of the grader (e.g. `git worktree add /tmp/base <commit>`). Every fixture
submission (tests/fixtures: submissions, seeds, students, the class folder) is graded by both,
as `grade SUB -f json` and as the terminal report at 80 columns; the JSON is compared without
the fields that say when and how long (graded_at, duration, grader_version), the terminal text
and the exit status as they are. Prints one line per submission and exits 1 if any differs.
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
FIXTURES = ROOT / "tests" / "fixtures"
TIMING_FIELDS = ("duration", "graded_at", "grader_version")


def submissions() -> list[Path]:
    found = [p for p in sorted((FIXTURES / "submissions").iterdir()) if p.suffix in (".py", ".ipynb") or p.is_dir()]
    found += sorted((FIXTURES / "seeds").glob("*.ipynb"))
    found += sorted((FIXTURES / "students").iterdir())
    found += sorted(p for p in (FIXTURES / "classes").rglob("*") if p.suffix in (".py", ".ipynb"))
    return found


def run(checkout: Path, submission: Path, fmt: str) -> tuple[int, str]:
    # `-m` puts the working folder first on sys.path: each checkout is run from its own folder.
    env = dict(os.environ, PYTHONPATH=str(checkout), NO_COLOR="1", COLUMNS="80")
    done = subprocess.run([sys.executable, "-m", "grader.cli", str(submission), "-f", fmt], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout


def without_timing(text: str):
    try:
        data = json.loads(text)
    except ValueError:
        return text

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in TIMING_FIELDS}
        return [strip(v) for v in value] if isinstance(value, list) else value
    return strip(data)


def compare(baseline: Path, submission: Path) -> tuple[Path, list[str]]:
    differences = []
    for fmt in ("json", "terminal"):
        (old_code, old), (new_code, new) = run(baseline, submission, fmt), run(ROOT, submission, fmt)
        if old_code != new_code:
            differences.append(f"{fmt}: exit {old_code} -> {new_code}")
        if (without_timing(old) if fmt == "json" else old) != (without_timing(new) if fmt == "json" else new):
            differences.append(f"{fmt}: the report differs")
    return submission, differences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, metavar="DIR")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    if not any((args.baseline / "grader" / name).is_file() for name in ("cli.py", "cli/main.py")):
        parser.error(f"--baseline {args.baseline}: no grader/cli.py or grader/cli/main.py there")
    changed = 0
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        for submission, differences in pool.map(lambda s: compare(args.baseline.resolve(), s), submissions()):
            changed += bool(differences)
            print(f"{'DIFF' if differences else 'same'}  {submission.relative_to(ROOT)}  {'; '.join(differences)}")
    print(f"{len(submissions()) - changed} of {len(submissions())} submissions graded the same")
    sys.exit(1 if changed else 0)


if __name__ == "__main__":
    main()
