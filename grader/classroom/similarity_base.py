"""The base code of similarity: hashes of every normalised token window of the book and the template.

A student's code that is the book's (a listing they typed, a file they kept) or the course
template's is not evidence that two students copied each other. ``similarity_base.json`` holds
the hashes of every window of ``WINDOW`` normalised tokens (see :mod:`.similarity_code`) of
every version of every .py and .ipynb file in the book's published repositories (branches and
tags, as grader/submission/book_index.py reads them: never the unmerged pull requests of
learners), of the course template, ``student_template/``, and of chapter 4's listings as the
book prints them. The printed listings differ from the repositories' files (the batch
``cross_entropy_error`` of 4.2.4, the ``delta`` of 4.2.2, the first ``numerical_diff``): two
learners who never met both type them, and before they were base code such pairs were
flagged. They are typed from the book into a folder for the build and not kept in the
repository (the book's text is not ours to copy). It stores no code: a window's hash cannot be
turned back into its tokens, and its tokens have no names left in them.

Build it (the command the packaged file records in its header)::

    python -m grader.classroom.similarity_base build --repo OWNER/NAME=BARE_GIT_DIR ... \\
        --files student_template --name template \\
        --files LISTINGS_DIR --name chapter-4-listings-as-printed -o grader/classroom/similarity_base.json
"""
from __future__ import annotations

import base64
import json
import sys
from functools import lru_cache
from pathlib import Path

from .similarity_code import STATEMENT_TOKENS, WINDOW, normalised_tokens, statement_hashes, window_hashes

FORMAT = 1
PACKAGED_BASE = Path(__file__).with_name("similarity_base.json")
_BYTES = 8


def encode(hashes: set[int]) -> str:
    return base64.b64encode(b"".join(h.to_bytes(_BYTES, "big") for h in sorted(hashes))).decode("ascii")


def decode(text: str) -> frozenset[int]:
    data = base64.b64decode(text)
    return frozenset(int.from_bytes(data[i:i + _BYTES], "big") for i in range(0, len(data), _BYTES))


@lru_cache(maxsize=4)
def load_base(path: Path = PACKAGED_BASE) -> frozenset[int]:
    """The base hashes of an index file (the packaged one by default), loaded once."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if (data.get("format"), data.get("window"), data.get("statement")) != (FORMAT, WINDOW, STATEMENT_TOKENS):
        raise ValueError(f"{path}: similarity base format {data.get('format')!r}, window {data.get('window')!r}, "
                         f"statement {data.get('statement')!r}; expected {FORMAT}, {WINDOW}, {STATEMENT_TOKENS}: "
                         "rebuild it")
    return decode(data["hashes"])


def code_pieces(path: str, text: str) -> list[str]:
    """A .py file's text, or each code cell of a notebook (a cell is tokenised on its own)."""
    if not path.endswith(".ipynb"):
        return [text]
    from ..submission.fingerprint import notebook_code_cells

    try:
        return list(notebook_code_cells(text))
    except Exception:  # a notebook the book's history broke: nothing to learn from it
        return []


def file_hashes(path: str, text: str) -> set[int]:
    found: set[int] = set()
    for piece in code_pieces(path, text):
        tokens = normalised_tokens(piece)
        found.update(window_hashes(tokens))
        found.update(value for value, _first, _last in statement_hashes(tokens))
    return found


def _repository_hashes(git_dir: Path) -> tuple[set[int], dict]:
    import subprocess

    from ..submission.book_index import SUFFIXES, _git, _text

    commits = _git(git_dir, "rev-list", "--branches", "--tags", "--date-order", "--reverse").split()
    blobs: dict[str, str] = {}  # blob -> a path it had (the suffix decides how it is read)
    for commit in commits:
        for entry in _git(git_dir, "ls-tree", "-r", "-z", commit).split("\0"):
            meta, _, path = entry.partition("\t")
            if path.endswith(SUFFIXES) and meta.split()[1] == "blob":
                blobs.setdefault(meta.split()[2], path)
    found: set[int] = set()
    reader = subprocess.Popen(["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert reader.stdin is not None and reader.stdout is not None
    try:
        for blob, path in sorted(blobs.items()):
            reader.stdin.write(blob.encode() + b"\n")
            reader.stdin.flush()
            size = int(reader.stdout.readline().split()[2])
            text = _text(path, reader.stdout.read(size + 1)[:-1])
            if text is not None:
                found |= file_hashes(path, text)
    finally:
        reader.stdin.close()
        reader.wait()
    return found, {"head": _git(git_dir, "rev-parse", "HEAD").strip(), "commits": len(commits), "blobs": len(blobs)}


def _folder_hashes(folder: Path) -> tuple[set[int], dict]:
    from ..submission.book_index import SUFFIXES, _text

    files = sorted(p for p in folder.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    found: set[int] = set()
    for file in files:
        text = _text(file.name, file.read_bytes())
        if text is not None:
            found |= file_hashes(file.name, text)
    return found, {"blobs": len(files)}


def build(repositories: list[tuple[str, Path]], folders: list[tuple[str, Path]], command: str) -> dict:
    import os
    import platform
    import time

    hashes: set[int] = set()
    sources = []
    for name, location, plain in ([(n, p, False) for n, p in repositories] + [(n, p, True) for n, p in folders]):
        found, stats = _folder_hashes(location) if plain else _repository_hashes(location)
        sources.append({"repository" if not plain else "folder": name, **stats, "windows": len(found)})
        hashes |= found
    built = time.gmtime(int(os.environ.get("SOURCE_DATE_EPOCH", time.time())))
    return {"format": FORMAT, "window": WINDOW, "statement": STATEMENT_TOKENS,
            "about": "Hashes (8 bytes, sorted, base64) of every window and every long statement of normalised tokens "
                     "(grader.classroom.similarity_code) of the book's published code and the course template; "
                     "no code is stored.",
            "built": {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", built), "command": command,
                      "python": platform.python_version()},
            "sources": sources, "hashes": encode(hashes)}


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m grader.classroom.similarity_base")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("build", help="build a base file")
    make.add_argument("--repo", action="append", default=[], metavar="NAME=GIT_DIR",
                      help="a repository (owner/name) and its bare git directory; repeatable")
    make.add_argument("--files", action="append", default=[], type=Path, metavar="DIR",
                      help="every .py/.ipynb under a plain folder (the course template)")
    make.add_argument("--name", action="append", default=[], help="the name recorded for each --files")
    make.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    repositories = []
    for spec in args.repo:
        name, sep, location = spec.partition("=")
        if not sep:
            parser.error(f"--repo expects NAME=GIT_DIR, got {spec!r}")
        repositories.append((name, Path(location)))
    names = args.name + [p.resolve().name for p in args.files[len(args.name):]]
    folders = list(zip(names, args.files))
    if not repositories and not folders:
        parser.error("give --repo or --files")
    command = " ".join(["python -m grader.classroom.similarity_base build"]
                       + [f"--repo {name}=MIRROR" for name, _ in repositories]
                       + [f"--files {path.name} --name {name}" for name, path in folders] + ["-o", args.output.name])
    document = build(repositories, folders, command)
    args.output.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    for source in document["sources"]:
        print(json.dumps(source, ensure_ascii=False), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
