"""``grade gradescope-bundle -o autograder.zip``: a Gradescope autograder that runs this grader.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once (as root, on
its Ubuntu image) when it builds the autograder, then ``run_autograder`` for every
submission: the student's files are in ``/autograder/submission`` and the results must
be written to ``/autograder/results/results.json``. The zip holds:

* ``setup.sh``: a virtual environment in ``/autograder/venv`` with the grader installed
  from ``dlfs-grader/`` (the grader's own source, shipped in the zip: from a checkout, its
  project files; from an installed copy, the ``grader`` package with a pyproject.toml written
  from the installed metadata) and any ``--requirement``;
* ``run_autograder``: grades the one notebook or ``.py`` file handed in (or the whole
  folder, in the book's layout) with ``-f gradescope``; ``grade`` writes results.json even
  for a submission it cannot grade, and a last resort covers a grader fault;
* ``plugins/`` and ``assignment.toml``: the ``--plugin`` files and ``--assignment`` file given;
* ``secret.txt``: an instructor's secret generated for this bundle (``--secret-file``), so that
  answers harvested from a student's own ``grade -f json`` fit none of the random cases.

``AUTOGRADER_ROOT`` and ``DLFS_PYTHON`` override ``/autograder`` and the venv's python, so
the bundle can be tried locally against a fake ``/autograder`` layout (the tests do).
"""
from __future__ import annotations

import argparse
import shlex
import sys
import zipfile
from pathlib import Path

from .. import __version__

GRADER_DIR = Path(__file__).resolve().parents[1]  # the grader package (this module is in grader/cli/)
SOURCE_ROOT = GRADER_DIR.parent
PACKAGE_DIRS = ("grader", "reference", "exercises")  # what `pip install` of the grader needs
PROJECT_FILES = ("pyproject.toml", "setup.py", "README.md")
SKIP = {"__pycache__", ".pytest_cache", "build", "dist"}

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
# Absolute, so that a relative AUTOGRADER_ROOT (a local try: AUTOGRADER_ROOT=fake) works too.
ROOT="$(cd "${{AUTOGRADER_ROOT:-/autograder}}" && pwd)"
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m venv --help >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip
fi
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install --quiet --upgrade pip
"$ROOT/venv/bin/pip" install --quiet "$ROOT/source/dlfs-grader"{requirements}
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade it and write results/results.json.
# dlfs-grader {version}; grading options: {options}
set -uo pipefail
# Absolute, so that a relative AUTOGRADER_ROOT (a local try: AUTOGRADER_ROOT=fake) still names the
# same folders after the cd below.
ROOT="$(cd "${{AUTOGRADER_ROOT:-/autograder}}" && pwd)"
PYTHON="${{DLFS_PYTHON:-$ROOT/venv/bin/python}}"
SOURCE="$ROOT/source"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
# One notebook or .py file is graded on its own; anything else as a folder in the book's layout.
shopt -s nullglob nocaseglob
handed_in=("$ROOT"/submission/*.ipynb "$ROOT"/submission/*.py)
if [ "${{#handed_in[@]}}" -eq 1 ]; then target="${{handed_in[0]}}"; else target="$ROOT/submission"; fi
cd "$ROOT/submission" 2>/dev/null || cd "$ROOT"
# --within: the student's code reaches nothing outside their submission (the autograder's source is beside it).
"$PYTHON" -m grader.cli "$target" {arguments} --within "$ROOT/submission" -f gradescope -o "$RESULTS" -f terminal
status=$?
# grade writes results.json even for a submission it cannot grade (exit 2). Without one the
# grader itself failed: say so rather than leave Gradescope with nothing.
if [ ! -s "$RESULTS" ]; then
  printf '{{"score": 0, "output": "The autograder failed (grade exit status %s); please tell your instructor.", "tests": []}}\\n' \\
    "$status" > "$RESULTS"
fi
exit 0
"""


def _add_tree(archive: zipfile.ZipFile, folder: Path, name: str) -> None:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part in SKIP or part.endswith(".egg-info") for part in relative.parts) or path.suffix == ".pyc":
            continue
        if path.is_file():
            archive.write(path, f"{name}/{relative.as_posix()}")


def _script(archive: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16  # executable, as Gradescope runs them
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


INSTALLED_PYPROJECT = """[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "dlfs-grader"
version = "{version}"
requires-python = ">=3.11"
dependencies = {dependencies}

[project.scripts]
grade = "grader.cli:run"

[project.entry-points.pytest11]
dlfs_grader = "grader.pytest_plugin"

[tool.setuptools.packages.find]
include = ["grader*"]

[tool.setuptools.package-data]
"*" = ["**/*.toml", "**/*.po", "**/*.pot", "**/*.mo", "**/*.j2", "**/*.npz", "**/*.npy", "**/*.md", "**/book_index.json"]
"""


def _from_checkout() -> bool:
    return (SOURCE_ROOT / "pyproject.toml").is_file() and (SOURCE_ROOT / "reference").is_dir()


def _installed_pyproject() -> str:
    """A pyproject.toml for the installed ``grader`` package (answer key and specs inside it)."""
    import json
    from importlib.metadata import PackageNotFoundError, requires

    try:
        wanted = [r for r in requires("dlfs-grader") or [] if "extra ==" not in r]
    except PackageNotFoundError:
        raise FileNotFoundError("dlfs-grader is neither a checkout nor an installed package here") from None
    return INSTALLED_PYPROJECT.format(version=__version__, dependencies=json.dumps(wanted))


def build(output: Path, plugins: list[Path], modules: list[str], assignment: str | None, requirements: list[str],
          options: list[str]) -> list[str]:
    """Write the zip; returns the arguments run_autograder passes to ``grade``."""
    checkout = _from_checkout()
    pyproject = None if checkout else _installed_pyproject()
    arguments: list[str] = []
    for plugin in plugins:
        arguments += ["--plugin", f"$SOURCE/plugins/{plugin.name}"]
    for module in modules:
        arguments += ["--plugin", module]
    if assignment:
        arguments += ["--assignment", "$SOURCE/assignment.toml" if Path(assignment).is_file() else assignment]
    # The instructor's secret salts the random cases' seeds: a table of answers harvested from
    # `grade -f json` on a laptop then fits nothing. Generated per bundle; only the autograder has
    # it (Gradescope never gives a student the source folder, and --within keeps the student's
    # code out of it).
    arguments += ["--secret-file", "$SOURCE/secret.txt"]
    arguments += options
    quoted = " ".join(f'"{a}"' if a.startswith("$SOURCE") else shlex.quote(a) for a in arguments)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        requirement_text = "".join(f" {shlex.quote(r)}" for r in requirements)
        _script(archive, "setup.sh", SETUP.format(requirements=requirement_text))
        _script(archive, "run_autograder", RUN.format(version=__version__, options=" ".join(arguments) or "-",
                                                      arguments=quoted))
        if checkout:
            for name in PROJECT_FILES:
                if (SOURCE_ROOT / name).is_file():
                    archive.write(SOURCE_ROOT / name, f"dlfs-grader/{name}")
            for name in PACKAGE_DIRS:
                if (SOURCE_ROOT / name).is_dir():
                    _add_tree(archive, SOURCE_ROOT / name, f"dlfs-grader/{name}")
        else:  # installed: grader/ already holds _reference and _exercises
            archive.writestr("dlfs-grader/pyproject.toml", pyproject)
            _add_tree(archive, GRADER_DIR, "dlfs-grader/grader")
        import secrets
        secret = zipfile.ZipInfo("secret.txt", date_time=(1980, 1, 1, 0, 0, 0))
        secret.external_attr = 0o600 << 16  # read by the grading process (root) alone
        archive.writestr(secret, secrets.token_hex(32) + "\n")
        for plugin in plugins:
            archive.write(plugin, f"plugins/{plugin.name}")
        if assignment and Path(assignment).is_file():
            archive.write(assignment, "assignment.toml")
    return arguments


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="grade gradescope-bundle",
                                     description="Write a Gradescope autograder zip (setup.sh + run_autograder) that "
                                                 "grades each submission with this grader. See docs/ci.md.")
    parser.add_argument("-o", "--output", type=Path, default=Path("autograder.zip"), metavar="FILE",
                        help="the zip to write (default autograder.zip)")
    parser.add_argument("--assignment", metavar="NAME_OR_FILE", help="the assignment to grade (a .toml is included)")
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE_OR_FILE",
                        help="a plugin: a .py file is included in the zip; a module must be installed "
                             "(see --requirement)")
    parser.add_argument("--requirement", action="append", default=[], metavar="PIP_SPEC",
                        help="another package for setup.sh to pip install, e.g. a plugin package (repeatable)")
    parser.add_argument("--lang", choices=("en", "ko", "ja", "zh"), help="language of the feedback")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="time limit for each call")
    parser.add_argument("--total-timeout", type=float, metavar="SECONDS", help="time limit for a whole submission")
    args = parser.parse_args(argv)
    files = [Path(p) for p in args.plugin if p.endswith(".py") or Path(p).is_file()]
    modules = [p for p in args.plugin if not (p.endswith(".py") or Path(p).is_file())]
    for path in files + ([Path(args.assignment)] if args.assignment and args.assignment.endswith(".toml") else []):
        if not path.is_file():
            print(f"grade gradescope-bundle: error: {path}: no such file", file=sys.stderr)
            return 2
    options: list[str] = []
    if args.lang:
        options += ["--lang", args.lang]
    for flag, seconds in (("--timeout", args.timeout), ("--total-timeout", args.total_timeout)):
        if seconds is not None:
            options += [flag, f"{seconds:g}"]
    try:
        build(args.output, files, modules, args.assignment, args.requirement, options)
    except OSError as exc:
        print(f"grade gradescope-bundle: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}: upload it as the autograder of a Gradescope programming assignment", file=sys.stderr)
    return 0
