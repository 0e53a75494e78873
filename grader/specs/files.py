"""Reading spec files without the spec model: the TOML of a spec, and the folders the worker may not read.

Light on purpose (no NumPy, no checks): the submission's hand-over asks which folders hold the answer
keys before the rest of the grader is loaded (grader/submission/handover.py), and the exercise loader
(grader/specs/exercises.py) reads the same parsed TOML afterwards.
"""
from __future__ import annotations

import importlib.util
import tomllib
from functools import lru_cache
from pathlib import Path

import pluggy


def answer_key_paths(source: str, reference: str) -> list[str]:
    """Folders holding an exercise's spec (``source``) and its answer key (the module of
    ``reference``, ``module:attribute``): the worker may not read them."""
    paths = [str(Path(source).resolve().parent)] if source else []
    try:
        spec = importlib.util.find_spec(reference.partition(":")[0])
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        origin = Path(spec.origin).resolve().parent
        # A module beside the specs or in its own package: protect its folder, never site-packages.
        if origin.name not in ("site-packages", "dist-packages"):
            paths.append(str(origin))
    return paths


def spec_table(path: Path) -> dict:
    """A spec file's TOML, parsed once per process while the file is unchanged: the hand-over reads
    the answer keys' modules from it, then the exercise loader reads everything (never modify it).
    Raises what reading and parsing raise."""
    stat = path.stat()
    return _parsed_spec(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=128)
def _parsed_spec(path: str, _mtime_ns: int, _size: int) -> dict:
    return tomllib.loads(Path(path).read_text(encoding="utf-8"))


def spec_folders_answer_keys(pm: pluggy.PluginManager) -> list[str] | None:
    """What :func:`answer_key_paths` gives for every spec of every exercise folder, read from the
    TOML alone (no cases drawn, no NumPy); None if a spec cannot be read (the full load says why)."""
    found: set[str] = set()
    for impl in pm.hook.grader_exercise_dirs.get_hookimpls():
        for folder in impl.function() or ():
            for spec in sorted(Path(folder).glob("*.toml")):
                try:
                    reference = spec_table(spec).get("reference")
                except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                    return None
                if not isinstance(reference, str):
                    return None
                found.update(answer_key_paths(str(spec), reference))
    return sorted(found)
