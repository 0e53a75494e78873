"""Grade real learners' repositories and compare the grader with a teacher's verdicts.

    python benchmarks/realworld.py [--mirrors /work/.mirror] [--markdown FILE] [--only NAME]

tests/realworld/verdicts.toml names each repository, the commit and the path a student would
hand in, and a teacher's verdict per exercise (pass, fail, missing, book). For each entry this
extracts that commit of the fetched mirror (``<mirrors>/<owner>+<name>/repo``, a bare git
directory or one holding ``.git``) into a temporary folder, the whole repository as the student
has it (sibling chapter folders, a copied ``common/``), runs the installed ``grade <path> -f json``
and maps each exercise's status to a verdict. It prints a table per repository, the agreement
and every disagreement with the grader's status, message and diagnoses. Entries whose mirror
(or commit) is absent are reported as skipped. Standard library only; gradings run one at a time.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ("sum_squares_error", "cross_entropy_error", "numerical_diff", "numerical_gradient",
             "gradient_descent", "simple_net", "two_layer_net")
SHORT = ("SSE", "CEE", "ND", "NG", "GD", "SN", "TLN")
# A "missing" whose message says the only code is the book's (an import of the book's helpers,
# a wrapper around them, or, once fingerprints exist, a copied file) is the teacher's "book".
# "the book's example" (near names that fail a book case) must not match.
BOOK_MESSAGE = re.compile(r"book's own|\(an import\)|copied from the book|book's (code|file)|fingerprint",
                          re.IGNORECASE)
STATUS_TO_VERDICT = {"passed": "pass", "failed": "fail", "partial": "fail", "error": "fail", "timeout": "fail"}


@dataclass
class Outcome:
    """What the grader said about one exercise, and the verdict it amounts to."""

    verdict: str
    status: str
    message: str = ""
    diagnoses: tuple[str, ...] = ()
    graded_name: str = ""


@dataclass
class Entry:
    name: str
    commit: str
    path: str
    language: str
    kind: str
    teacher: dict[str, str]
    book_repository: bool = False
    grader: dict[str, Outcome] = field(default_factory=dict)
    skipped: str = ""  # why it was not graded (mirror or commit absent)
    seconds: float = 0.0


def git_dir(mirrors: Path, name: str) -> Path | None:
    base = mirrors / name.replace("/", "+") / "repo"
    for candidate in (base / ".git", base):
        if (candidate / "objects").is_dir():
            return candidate
    return None


def extract(gitdir: Path, commit: str, dest: Path) -> int:
    """Write every blob of ``commit`` under ``dest``; return how many were absent.

    Not ``git archive``: the mirrors are snapshots whose largest blobs (mnist.pkl, the IDX
    files) may be missing, and archive stops at the first one. Symlinks are skipped so that
    nothing in a student's tree can point outside it.
    """
    listing = subprocess.run(["git", "--git-dir", str(gitdir), "ls-tree", "-r", "-z", commit],
                             capture_output=True, check=True).stdout
    blobs = []
    for record in filter(None, listing.split(b"\0")):
        meta, path = record.split(b"\t", 1)
        mode, kind, oid = meta.split()
        if kind == b"blob" and mode != b"120000":
            blobs.append((oid, path.decode("utf-8", "surrogateescape")))
    absent = 0
    with subprocess.Popen(["git", "--git-dir", str(gitdir), "cat-file", "--batch"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE) as batch:
        assert batch.stdin and batch.stdout
        for oid, path in blobs:
            batch.stdin.write(oid + b"\n")
            batch.stdin.flush()
            header = batch.stdout.readline().split()
            if header[-1] == b"missing":
                absent += 1
                continue
            data = batch.stdout.read(int(header[2]))
            batch.stdout.read(1)  # the newline after each object
            target = dest / path
            if dest.resolve() not in target.resolve().parents:
                continue  # a path that would leave the tree
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        batch.stdin.close()
    return absent


def to_outcome(exercise: dict | None) -> Outcome:
    if exercise is None:
        return Outcome("fail", "error", "not in the report")
    status, message = exercise.get("status", "error"), exercise.get("message", "")
    if status == "missing":
        verdict = "book" if BOOK_MESSAGE.search(message) else "missing"
    else:
        verdict = STATUS_TO_VERDICT.get(status, "fail")
    return Outcome(verdict, status, message, tuple(d.get("id", "") for d in exercise.get("diagnoses", ())),
                   exercise.get("graded_name", ""))


def grade(entry: Entry, repo_root: Path, command: str, timeout: float) -> None:
    # English messages: the book-code rule above reads them.
    argv = [command, str(repo_root / entry.path), "-f", "json", "--lang", "en"]
    try:
        done = subprocess.run(argv, cwd=repo_root, capture_output=True, text=True, timeout=timeout)
        report = json.loads(done.stdout)
    except subprocess.TimeoutExpired:
        entry.grader = {e: Outcome("fail", "timeout", f"grade took over {timeout:.0f} s") for e in EXERCISES}
        return
    except json.JSONDecodeError:
        reason = f"exit {done.returncode}, no JSON: {(done.stderr or done.stdout).strip()[-300:]}"
        entry.grader = {e: Outcome("fail", "error", reason) for e in EXERCISES}
        return
    by_id = {e["id"]: e for e in report.get("exercises", [])}
    entry.grader = {e: to_outcome(by_id.get(e)) for e in EXERCISES}
    if report.get("error") and not by_id:
        entry.grader = {e: Outcome("fail", "error", report["error"]) for e in EXERCISES}
    for outcome in entry.grader.values():  # the temporary folder's name differs on every run
        outcome.message = outcome.message.replace(str(repo_root), "<repo>")
    entry.seconds = report.get("duration", 0.0)


def run(entries: list[Entry], mirrors: Path, command: str, timeout: float) -> None:
    for entry in entries:
        gitdir = git_dir(mirrors, entry.name)
        if gitdir is None:
            entry.skipped = "no mirror"
            continue
        with tempfile.TemporaryDirectory(prefix="realworld-") as tmp:
            repo_root = Path(tmp) / entry.name.split("/")[1]
            repo_root.mkdir()
            try:
                extract(gitdir, entry.commit, repo_root)
            except subprocess.CalledProcessError:
                entry.skipped = f"commit {entry.commit[:12]} not in the mirror"
                continue
            # A student's clone has a .git folder, and the grader finds the repository root by it.
            (repo_root / ".git").mkdir()
            print(f"grading {entry.name}: {entry.path}", file=sys.stderr, flush=True)
            grade(entry, repo_root, command, timeout)


def cell(entry: Entry, exercise: str) -> str:
    teacher, grader = entry.teacher.get(exercise, "?"), entry.grader[exercise].verdict
    return teacher if teacher == grader else f"{teacher}≠{grader}"


def agreement(entries: list[Entry]) -> tuple[int, int]:
    pairs = [(e.teacher.get(x), e.grader[x].verdict) for e in entries if not e.skipped for x in EXERCISES]
    return sum(t == g for t, g in pairs), len(pairs)


def disagreements(entries: list[Entry]) -> list[tuple[Entry, str]]:
    return [(e, x) for e in entries if not e.skipped for x in EXERCISES if e.teacher.get(x) != e.grader[x].verdict]


def describe(entry: Entry, exercise: str) -> str:
    out = entry.grader[exercise]
    message = " ".join(out.message.split())
    message = message if len(message) <= 300 else message[:297] + "..."
    return (f"{entry.name} `{entry.path}` {exercise}: teacher {entry.teacher.get(exercise)}, grader {out.verdict} "
            f"(status {out.status}; graded `{out.graded_name or '-'}`; diagnoses {', '.join(out.diagnoses) or '-'}; "
            f"message: {message or '-'})")


def summary_lines(entries: list[Entry]) -> list[str]:
    learners = [e for e in entries if not e.book_repository]
    lines = []
    for label, group in (("all rows", entries), ("learners only", learners)):
        equal, total = agreement(group)
        if total:
            lines.append(f"agreement ({label}): {equal}/{total} = {100 * equal / total:.1f}%")
    skipped = [e for e in entries if e.skipped]
    lines += [f"skipped: {e.name} ({e.skipped})" for e in skipped]
    return lines


def print_report(entries: list[Entry]) -> None:
    width = max(len(e.name) for e in entries)
    print(f"{'repository':<{width}}  " + "  ".join(f"{s:<11}" for s in SHORT))
    for entry in entries:
        if entry.skipped:
            print(f"{entry.name:<{width}}  skipped: {entry.skipped}")
            continue
        print(f"{entry.name:<{width}}  " + "  ".join(f"{cell(entry, x):<11}" for x in EXERCISES))
    print()
    for line in summary_lines(entries):
        print(line)
    print("\ndisagreements:")
    for entry, exercise in disagreements(entries):
        print("- " + describe(entry, exercise))


def write_markdown(entries: list[Entry], target: Path) -> None:
    rows = ["| repository | lang | kind | path | " + " | ".join(SHORT) + " |",
            "| --- | --- | --- | --- | " + " | ".join("---" for _ in SHORT) + " |"]
    for e in entries:
        cells = ["skipped"] * len(SHORT) if e.skipped else [cell(e, x) for x in EXERCISES]
        rows.append(f"| {e.name} | {e.language} | {e.kind} | `{e.path}` | " + " | ".join(cells) + " |")
    body = rows + [""] + [f"- {line}" for line in summary_lines(entries)] + ["", "Disagreements (teacher≠grader):", ""]
    body += ["- " + describe(e, x).replace("|", "\\|") for e, x in disagreements(entries)]
    target.write_text("\n".join(body) + "\n", encoding="utf-8")


def load(path: Path, only: list[str]) -> list[Entry]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    entries = [Entry(r["name"], r["commit"], r["path"], r.get("language", ""), r.get("kind", ""),
                     dict(r["verdicts"]), bool(r.get("book_repository", False))) for r in data["repository"]]
    return [e for e in entries if not only or any(o.lower() in e.name.lower() for o in only)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verdicts", type=Path, default=ROOT / "tests" / "realworld" / "verdicts.toml")
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--markdown", type=Path, help="also write the table and disagreements as Markdown")
    parser.add_argument("--only", action="append", default=[], help="grade only names containing this (repeatable)")
    parser.add_argument("--grade", default="grade", help="the grade command (default: the installed one)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed for one grading")
    args = parser.parse_args(argv)
    entries = load(args.verdicts, args.only)
    run(entries, args.mirrors, args.grade, args.timeout)
    print_report(entries)
    if args.markdown:
        write_markdown(entries, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
