"""Which files and definitions of a submission are the book's own code, known by fingerprint.

Students hand in their work with the book's ``common/``, ``dataset/`` and chapter files
copied beside it. Credit goes only to what they wrote, so the grader must know the book's
code when it sees it, without keeping that code: the packaged ``book_index.json`` holds only
fingerprints (see ``fingerprint.py``) and where each came from (repository, path, and the
first commit in which that version appeared), taken from every version of every .py and
.ipynb file in the whole history of the book's public repositories.

An instructor's plugin adds an index of its own, built the same way, through the
``grader_book_code`` hook (grading reads every index the hook names: grader/submission/book_code.py);
a query given ``index=load_index([...])`` reads those files instead of the packaged one.

Build one (the command the packaged index records in its header)::

    python -m grader.submission.book_index build --repo OWNER/NAME=BARE_GIT_DIR ... -o OUT.json
    python -m grader.submission.book_index build --files DIR --name NAME -o OUT.json
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from .fingerprint import (all_definition_fingerprints, definition_fingerprints, file_fingerprint,
                          notebook_code_cells, notebook_definition_fingerprints, notebook_fingerprint)

FORMAT = 1
PACKAGED_INDEX = Path(__file__).with_name("book_index.json")
SUFFIXES = (".py", ".ipynb")
# An empty module (an ``__init__.py``, a file of comments) is everyone's code, not the book's.
EMPTY_MODULE = file_fingerprint("")


# Immutable records as NamedTuples and plain classes, not dataclasses: every grading imports this
# module, and a dataclass costs about 0.8 ms to define on a slow machine (a NamedTuple 0.1 ms).
class BookMatch(NamedTuple):
    """Where a fingerprint was found: ``commit`` is the first commit (12 hex digits) of
    ``repository`` in which this version of ``path`` appeared; "" for an index of a plain folder."""

    repository: str
    path: str
    commit: str


class _Document:
    """One index file as stored: provenance tables, and entries as lines decoded on first use.

    A line is ``FINGERPRINT [NAME] S,P,C ...``: indexes into ``repositories``, ``paths`` and
    ``commits``; a fingerprint's first provenance is the earliest (the original repository first).
    """

    __slots__ = ("repositories", "paths", "commits", "files", "definitions", "header")

    def __init__(self, repositories: tuple[str, ...], paths: tuple[str, ...], commits: tuple[str, ...],
                 files: str, definitions: str, header: dict) -> None:
        self.repositories, self.paths, self.commits = repositories, paths, commits
        self.files, self.definitions, self.header = files, definitions, header

    def match(self, provenance: str) -> BookMatch:
        source, path, commit = (int(part) for part in provenance.split(","))
        return BookMatch(self.repositories[source], self.paths[path], self.commits[commit])


class BookIndex:
    """One or more index files, queried by fingerprint. Each table is decoded on its first query:
    grading a file that has no definitions never pays for the definitions. Never changed once made."""

    def __init__(self, documents: tuple[_Document, ...]) -> None:
        self.documents = documents

    @property
    def headers(self) -> tuple[dict, ...]:
        """Each index file's provenance header (sources, their HEAD commits, when and how built)."""
        return tuple(document.header for document in self.documents)

    @cached_property
    def _files(self) -> dict[str, list[tuple[_Document, str]]]:
        return _decode(self.documents, "files")

    @cached_property
    def _definitions(self) -> dict[str, list[tuple[_Document, str]]]:
        return _decode(self.documents, "definitions")

    @cached_property
    def definition_names(self) -> frozenset[str]:
        """Every name a book definition has: code that defines none of them has no book definition."""
        return frozenset(rest.partition(" ")[0] for entries in self._definitions.values() for _d, rest in entries)

    def file_matches(self, fingerprint: str) -> tuple[BookMatch, ...]:
        """Every place this file version was found, the preferred (earliest, original) first."""
        return tuple(document.match(p) for document, rest in self._files.get(fingerprint, ())
                     for p in rest.split(" "))

    def definition_matches(self, fingerprint: str) -> tuple[tuple[str, BookMatch], ...]:
        """(name, where) for every place this definition was found, the preferred first."""
        found = []
        for document, rest in self._definitions.get(fingerprint, ()):
            name, *provenances = rest.split(" ")
            found.extend((name, document.match(p)) for p in provenances)
        return tuple(found)

    def entries(self, table: str) -> Iterator[tuple[str, tuple[BookMatch, ...]]]:
        """Every (fingerprint, matches) of the "files" or "definitions" table (for tests and audits)."""
        lookup = self.file_matches if table == "files" else (
            lambda fp: tuple(match for _, match in self.definition_matches(fp)))
        for fingerprint in (self._files if table == "files" else self._definitions):
            yield fingerprint, lookup(fingerprint)


def _decode(documents: tuple[_Document, ...], table: str) -> dict[str, list[tuple[_Document, str]]]:
    decoded: dict[str, list[tuple[_Document, str]]] = {}
    for document in documents:
        for line in getattr(document, table).splitlines():
            fingerprint, _, rest = line.partition(" ")
            decoded.setdefault(fingerprint, []).append((document, rest))
    return decoded


def load_index(paths: Iterable[Path]) -> BookIndex:
    """The index made of these files, in order (a fingerprint's matches follow the same order)."""
    documents = []
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"{path}: book index format {data.get('format')!r}, expected {FORMAT}")
        header = {key: value for key, value in data.items() if key not in ("files", "definitions")}
        documents.append(_Document(tuple(data["repositories"]), tuple(data["paths"]), tuple(data["commits"]),
                                   data["files"], data["definitions"], header))
    return BookIndex(tuple(documents))


_loaded: BookIndex | None = None


def default_index() -> BookIndex:
    """The packaged index, loaded once (a query's default when it is given no ``index``)."""
    global _loaded
    if _loaded is None:
        _loaded = load_index([PACKAGED_INDEX])
    return _loaded


def book_file(source: str, *, notebook: bool = False, path: str | None = None,
              index: BookIndex | None = None) -> BookMatch | None:
    """Where the book has this file (a notebook's .ipynb text when ``notebook``), or None.

    The same code is often in the book under several names (a file renamed to fix a typo,
    ``nueralnet`` to ``neuralnet``): the submission's ``path``, when given, picks the book's
    file of the same name; otherwise the earliest, in the original repository, is named.
    """
    fingerprint = (notebook_fingerprint(notebook_code_cells(source)) if notebook else file_fingerprint(source))
    if fingerprint is None or fingerprint == EMPTY_MODULE:
        return None
    matches = (index or default_index()).file_matches(fingerprint)
    if path is not None:
        tail = "/" + path.replace("\\", "/").lstrip("/")
        matches = tuple(sorted(matches, key=lambda m: not tail.endswith("/" + m.path)))  # stable: order kept
    return matches[0] if matches else None


def book_definitions(source: str, *, index: BookIndex | None = None) -> dict[str, BookMatch]:
    """The top-level functions and classes of ``source`` that are a book definition, by name,
    with where the book has them (see ``fingerprint.definition_fingerprints``)."""
    index = index or default_index()
    found: dict[str, BookMatch] = {}
    for name, fingerprint in definition_fingerprints(source).items():
        # The name is part of the fingerprint; comparing it too guards against a collision.
        match = next((m for book_name, m in index.definition_matches(fingerprint) if book_name == name), None)
        if match is not None:
            found[name] = match
    return found


# ---- building an index ---------------------------------------------------------------------
# What only a maintainer's build needs (git, argparse) is imported there: grading imports this
# module on every run and queries only.

class _Builder:
    """Collects fingerprints in the order versions are met (sources in order, each one's commits
    oldest first), so the first provenance of each fingerprint is its earliest. (A plain class:
    a dataclass costs every grading its definition time, for a maintainer's tool.)"""

    def __init__(self) -> None:
        self.repositories: list[str] = []
        self.paths: dict[str, int] = {}
        self.commits: dict[str, int] = {}
        self.files: dict[str, dict[tuple[int, int], int]] = {}  # fp -> (source, path) -> commit
        self.definitions: dict[str, tuple[str, dict[int, tuple[int, int]]]] = {}  # fp -> name, source -> (path, commit)

    def add(self, source: int, path: str, commit: str, text: str | None) -> bool:
        """Index one version of one file; False when it does not parse as Python 3."""
        notebook = path.endswith(".ipynb")
        cells = notebook_code_cells(text) if notebook and text is not None else []
        fingerprint = (None if text is None else notebook_fingerprint(cells) if notebook
                       else file_fingerprint(text))
        if fingerprint is None:
            return False
        where = (source, self.paths.setdefault(path, len(self.paths)))
        when = self.commits.setdefault(commit, len(self.commits))
        if fingerprint != EMPTY_MODULE:
            self.files.setdefault(fingerprint, {}).setdefault(where, when)
        named = notebook_definition_fingerprints(cells) if notebook else all_definition_fingerprints(text)
        for name, definition in named:
            # A definition is kept once per repository: it recurs in many files and versions,
            # and one place to show is enough (the file table keeps every path).
            self.definitions.setdefault(definition, (name, {}))[1].setdefault(source, (where[1], when))
        return True

    def document(self, header: dict) -> dict:
        def provenances(places: dict) -> str:
            return " ".join(f"{s},{p},{c}" for (s, p), c in sorted(places.items(), key=lambda kv: (kv[0][0], kv[1])))

        files = "\n".join(f"{fp} {provenances(places)}" for fp, places in sorted(self.files.items()))
        definitions = "\n".join(
            f"{fp} {name} " + " ".join(f"{s},{p},{c}" for s, (p, c) in sorted(places.items()))
            for fp, (name, places) in sorted(self.definitions.items()))
        return {"format": FORMAT, **header, "repositories": self.repositories, "paths": list(self.paths),
                "commits": list(self.commits), "files": files, "definitions": definitions}


def _decode_python(data: bytes) -> str | None:
    """A .py file's text as Python reads it (its coding cookie or BOM, else utf-8)."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return None


def _text(path: str, data: bytes) -> str | None:
    if path.endswith(".py"):
        return _decode_python(data)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _git(git_dir: Path, *args: str) -> str:
    import subprocess

    return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True,
                          text=True, encoding="utf-8", errors="surrogateescape").stdout


def _index_repository(builder: _Builder, source: int, git_dir: Path, all_refs: bool) -> dict:
    """Every version of every .py/.ipynb file in the published history, commits oldest first.

    Published: branches and tags. A mirror of a GitHub repository also holds ``refs/pull/*``,
    the heads of pull requests never merged, and in the book's repositories many of those are
    learners' own exercise solutions sent by mistake: their code is not the book's, and marking
    it so would deny a student credit for a function a stranger happened to write the same way.
    """
    import subprocess

    refs = ["--all"] if all_refs else ["--branches", "--tags"]
    commits = _git(git_dir, "rev-list", *refs, "--date-order", "--reverse").split()
    seen: set[tuple[str, str]] = set()  # (blob, path) already indexed: a version met again adds nothing
    blobs: set[str] = set()
    unparsed: dict[str, str] = {}  # blob -> "path@commit", for the header: what the index cannot know
    reader = subprocess.Popen(["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert reader.stdin is not None and reader.stdout is not None
    try:
        for commit in commits:
            for entry in _git(git_dir, "ls-tree", "-r", "-z", commit).split("\0"):
                meta, _, path = entry.partition("\t")  # "<mode> <type> <object>\t<path>"
                if not path.endswith(SUFFIXES) or meta.split()[1] != "blob":
                    continue
                blob = meta.split()[2]
                if (blob, path) in seen:
                    continue
                seen.add((blob, path))
                blobs.add(blob)
                reader.stdin.write(blob.encode() + b"\n")
                reader.stdin.flush()
                size = int(reader.stdout.readline().split()[2])
                data = reader.stdout.read(size + 1)[:-1]
                if not builder.add(source, path, commit[:12], _text(path, data)):
                    unparsed.setdefault(blob, f"{path}@{commit[:12]}")
    finally:
        reader.stdin.close()
        reader.wait()
    names = _git(git_dir, "for-each-ref", "--format=%(refname:short)", *([] if all_refs else ["refs/heads", "refs/tags"]))
    return {"head": _git(git_dir, "rev-parse", "HEAD").strip(), "refs": "all" if all_refs else names.split(),
            "commits": len(commits), "blobs": len(blobs), "unparsed": sorted(unparsed.values())}


def _index_folder(builder: _Builder, source: int, folder: Path) -> dict:
    files = sorted(p for p in folder.rglob("*") if p.suffix in SUFFIXES and p.is_file()
                   and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(folder).parts))
    relative = [p.relative_to(folder).as_posix() for p in files]
    unparsed = [path for path, p in zip(relative, files) if not builder.add(source, path, "", _text(path, p.read_bytes()))]
    return {"folder": folder.name, "blobs": len(files), "unparsed": unparsed}


def build(repositories: list[tuple[str, Path]], folder: tuple[str, Path] | None, command: str,
          all_refs: bool = False) -> dict:
    """The index document for these bare git directories (or one plain folder)."""
    import os
    import platform
    import time

    builder = _Builder()
    sources = []
    plan = [(name, location, False) for name, location in repositories] + ([(*folder, True)] if folder else [])
    for source, (name, location, plain) in enumerate(plan):
        builder.repositories.append(name)
        stats = (_index_folder(builder, source, location) if plain
                 else _index_repository(builder, source, location, all_refs))
        sources.append({"repository": name, **stats})
    for source, stats in enumerate(sources):
        # Fingerprints found in this source, shared with an earlier one or not.
        stats["files"] = sum(any(s == source for s, _ in places) for places in builder.files.values())
        stats["definitions"] = sum(source in places for _, places in builder.definitions.values())
    # SOURCE_DATE_EPOCH: a rebuild from the same mirrors gives the same bytes.
    built = time.gmtime(int(os.environ.get("SOURCE_DATE_EPOCH", time.time())))
    header = {"about": "Fingerprints of the book's code (grader.submission.fingerprint) and where each was "
                       "found; no code is stored.",
              "built": {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", built), "command": command,
                        "python": platform.python_version()},
              "sources": sources}
    return builder.document(header)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m grader.submission.book_index")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("build", help="build an index file")
    make.add_argument("--repo", action="append", default=[], metavar="NAME=GIT_DIR",
                      help="a repository (owner/name) and its bare git directory; repeatable, original first")
    make.add_argument("--all-refs", action="store_true",
                      help="also index refs outside branches and tags (a GitHub mirror's unmerged pull requests)")
    make.add_argument("--files", type=Path, metavar="DIR", help="index every .py/.ipynb under a plain folder")
    make.add_argument("--name", help="the repository name recorded for --files (default: the folder's name)")
    make.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    repositories = []
    for spec in args.repo:
        name, sep, location = spec.partition("=")
        if not sep:
            parser.error(f"--repo expects NAME=GIT_DIR, got {spec!r}")
        repositories.append((name, Path(location)))
    if not repositories and args.files is None:
        parser.error("give --repo or --files")
    folder = (args.name or args.files.resolve().name, args.files) if args.files is not None else None
    # The command as recorded: repository names and options, not this machine's paths.
    command = " ".join(["python -m grader.submission.book_index build"]
                       + [f"--repo {name}=MIRROR" for name, _ in repositories] + (["--all-refs"] if args.all_refs else [])
                       + ([f"--files DIR --name {folder[0]}"] if folder else []) + ["-o", args.output.name])
    document = build(repositories, folder, command, args.all_refs)
    args.output.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    for source in document["sources"]:
        print(json.dumps(source, ensure_ascii=False), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
