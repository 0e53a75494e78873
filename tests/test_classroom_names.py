"""Names of any bytes, slugs nobody can take, trees of any depth, an unambiguous content hash, a
gradebook no spreadsheet runs, and the class's own secret: each without grading anyone (fast).
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import stat
import unicodedata
from pathlib import Path

import pytest

from grader.classroom.gradebook import render_csv
from grader.classroom.hashing import content_hash
from grader.classroom.names import assign_slugs, display_name, student_ids
from grader.classroom.results import ClassReport, ExerciseInfo, ExerciseSummary, StudentResult
from grader.classroom.roster import read_roster
from grader.classroom.staging import StagingError, StagingLimits, stage
from grader.worker.cleanup import remove_tree

CODE = b"def sum_squares_error(y, t):\n    return 0.5 * ((y - t) ** 2).sum()\n"
CP949_NAME = "김민수".encode("cp949") + b".py"  # as `unzip` writes a name from a Korean Windows zip


def write(path: Path, data: bytes = CODE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def deep_folder(top: Path, levels: int) -> None:
    """``levels`` nested folders under ``top``, made one descriptor at a time (past PATH_MAX too)."""
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(levels):
            os.mkdir("d", dir_fd=fd)
            below = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = below
    finally:
        os.close(fd)


# ---- names and slugs --------------------------------------------------------------------------------

def test_a_name_that_is_not_utf8_is_read_hashed_and_staged_with_its_bytes_shown(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    write(Path(os.fsdecode(bytes(subs) + b"/" + CP949_NAME)))
    write(subs / "lee.py")
    roster = read_roster(subs)
    odd = next(s for s in roster.students if s.id != "lee")
    assert odd.id == "\\xb1\\xe8\\xb9μ\\xf6"  # every byte that is not UTF-8 shown ('μ' is valid UTF-8)
    assert odd.id.encode("utf-8") and odd.slug.encode("utf-8")  # both writable anywhere
    assert roster.find(odd.id) is odd and roster.find(odd.slug) is odd
    assert content_hash(odd, "g").startswith("v2:")
    staged = stage(odd, tmp_path / "stage")
    assert os.fsencode(staged.path.name) == CP949_NAME  # the student's own file, under its own name


def test_names_shown_alike_get_distinct_ids_and_a_valid_name_keeps_its_own():
    raw_invalid = os.fsdecode(b"\xb1.py")[:-3]  # the byte 0xb1: shown as the four characters \xb1
    literal = "\\xb1"  # a student who typed those four characters
    ids = student_ids([raw_invalid, literal])
    assert ids[literal] == literal
    assert ids[raw_invalid] != literal and ids[raw_invalid].startswith("\\xb1 [")
    assert display_name("plain") == "plain"


def test_slugs_are_unique_and_no_name_takes_another_students_slug():
    victims = ["victim x", "victim_x"]
    alone = assign_slugs(victims)
    # The old scheme suffixed a clash with sha1(name)[:6]: a name chosen to be that suffix took the slug.
    old_suffix = hashlib.sha1(b"victim_x").hexdigest()[:6]
    attackers = [f"victim x-{old_suffix}", alone["victim x"], alone["victim x"].upper(), "Victim_X"]
    slugs = assign_slugs(victims + attackers)
    assert len({s.casefold() for s in slugs.values()}) == len(slugs)  # distinct even on a case-insensitive disk
    assert slugs["victim x"] == alone["victim x"]  # stable: the attackers moved nobody
    assert slugs[alone["victim x"]] != alone["victim x"]  # a name shaped like a suffixed slug is suffixed again
    # 'victim_x' and 'Victim_X' are one file on macOS: neither keeps the plain name, whoever came first.
    assert slugs["victim_x"] != "victim_x" and slugs["Victim_X"] != "Victim_X"
    assert assign_slugs(["victim_x", "kim"])["victim_x"] == "victim_x"  # a plain name is its own slug


def test_names_a_disk_would_confuse_or_reserve_never_share_or_take_a_report_file():
    nfc, nfd = "김민수", unicodedata.normalize("NFD", "김민수")
    slugs = assign_slugs([nfc, nfd, "con", "ok"])
    assert unicodedata.normalize("NFC", slugs[nfc]).casefold() != unicodedata.normalize("NFC", slugs[nfd]).casefold()
    assert slugs["con"] != "con"  # 'con.html' is the console on Windows
    assert slugs["ok"] == "ok"
    for slug in assign_slugs(["..", ".", "a/b", "a\\b", "-", " ", "x" * 300, "한" * 200]).values():
        assert slug not in ("", ".", "..") and "/" not in slug and "\\" not in slug
        assert not slug.startswith(".") and len(slug.encode("utf-8")) < 200


@pytest.mark.parametrize("name", ["mallory_11_22_..", "mallory_11_22_."])
def test_a_name_that_would_be_a_path_component_is_that_students_row(tmp_path, name):
    subs = tmp_path / "subs"
    write(subs / name)
    write(subs / "bob_33_44_chapter4.py")
    roster = read_roster(subs)
    mallory = roster.find("mallory")
    assert "cannot be used" in mallory.problem and roster.find("bob").problem == ""
    dest = tmp_path / "box" / "dest"
    dest.mkdir(parents=True)
    with pytest.raises(StagingError, match="cannot be used"):
        stage(mallory, dest)
    assert sorted(p.name for p in (tmp_path / "box").rglob("*")) == ["dest"]  # nothing written, not even beside


def test_a_student_pattern_cannot_name_a_file_outside_the_students_folder(tmp_path):
    write(tmp_path / "subs" / "hw4_kim_..")
    roster = read_roster(tmp_path / "subs", pattern=r"hw4_(?P<student>[a-z]+)_(?P<file>.*)")
    with pytest.raises(StagingError, match="cannot be used"):
        stage(roster.find("kim"), tmp_path / "dest")


# ---- trees ----------------------------------------------------------------------------------------

def test_a_folder_nested_1200_deep_is_hashed_and_refused_with_a_reason(tmp_path):
    folder = tmp_path / "subs" / "deep"
    write(folder / "chapter4.py")
    deep_folder(folder, 1200)
    try:
        student = read_roster(tmp_path / "subs").find("deep")
        first = content_hash(student, "g")  # no RecursionError
        assert content_hash(student, "g") == first
        with pytest.raises(StagingError, match="nested more than 50 deep"):
            stage(student, tmp_path / "dest")
    finally:
        remove_tree(tmp_path / "subs")  # pytest's own clean-up recurses


def test_a_folder_of_too_many_entries_is_refused_with_a_reason(tmp_path):
    folder = tmp_path / "subs" / "crowded"
    write(folder / "chapter4.py")
    for i in range(60):
        (folder / f"empty{i}").mkdir()
    student = read_roster(tmp_path / "subs").find("crowded")
    with pytest.raises(StagingError, match="more than 50 files and folders"):
        stage(student, tmp_path / "dest", StagingLimits(max_entries=50))
    assert stage(student, tmp_path / "dest2").path.name == "chapter4.py"  # within the default bounds


# ---- the content hash -------------------------------------------------------------------------------

def old_content_hash(student, fingerprint: str) -> str:
    """The first format, kept here to show the pair below was a real collision."""
    digest = hashlib.sha256(fingerprint.encode())
    digest.update(student.problem.encode())

    def walk(path: Path) -> None:
        if path.is_dir():
            for child in sorted(os.scandir(path), key=lambda e: e.name):
                digest.update(b"\0name\0" + child.name.encode())
                walk(Path(child.path))
        else:
            digest.update(path.read_bytes())

    for entry in student.entries:
        digest.update(b"\0entry\0" + entry.target.encode() + b"\0" + entry.path.name.encode())
        walk(entry.path)
    return digest.hexdigest()


def test_two_hand_ins_the_old_hash_confused_hash_apart(tmp_path):
    two_files, one_file = tmp_path / "a" / "mallory", tmp_path / "b" / "mallory"
    write(two_files / "a.py", CODE)
    write(two_files / "b.py", b"x = 1\n")
    write(one_file / "a.py", CODE + b"\0name\0b.py" + b"x = 1\n")
    first, second = (read_roster(folder.parent).find("mallory") for folder in (two_files, one_file))
    assert old_content_hash(first, "g") == old_content_hash(second, "g")
    assert content_hash(first, "g") != content_hash(second, "g")


def test_the_content_hash_names_its_format_so_no_older_hash_ever_matches(tmp_path):
    student = read_roster(write(tmp_path / "subs" / "kim.py").parent).find("kim")
    digest = content_hash(student, "g")
    assert digest.startswith("v2:") and digest != old_content_hash(student, "g")


# ---- the gradebook ------------------------------------------------------------------------------------

HOSTILE = ["kim;=1+1", " =2+2", "=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "a,=1", "b;  @x",
           "c\n=1", "ok, fine"]


def class_of(names: list[str]) -> ClassReport:
    students = tuple(StudentResult(name, f"s{i}", (f"{name}.py",), "plain", "h", seconds=0.5,
                                   exercises=(ExerciseSummary("sse", "passed", 10.0, 10.0),),
                                   error=name if i % 2 else "")
                     for i, name in enumerate(names))
    return ClassReport("subs", "out", (ExerciseInfo("sse", "SSE", 10.0),), students)


def pieces(text: str) -> list[str]:
    """Every cell a spreadsheet could make of the CSV: split by ',', ';' or tab, honouring quotes or not."""
    found = []
    for delimiter in (",", ";", "\t"):
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            found += row
        for line in text.splitlines():  # a program that ignores the quotes
            found += [cell.strip('"') for cell in line.split(delimiter)]
    return found


def test_no_gradebook_cell_starts_a_formula_in_any_locale():
    text = render_csv(class_of(HOSTILE)).lstrip("\ufeff")
    for cell in pieces(text):
        assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), repr(cell)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["student"].replace("'", "") for r in rows] == HOSTILE  # the names are all still there, readable
    assert rows[0]["student"] == "kim;'=1+1"
    assert rows[0]["score"] == "10" and ',10,10,10,"passed",' in text  # numbers stay numbers, unquoted


# ---- the class's own secret ---------------------------------------------------------------------------

def test_a_class_without_a_secret_gets_one_kept_in_outdir_readable_by_the_instructor_only(tmp_path):
    from grader.specs.instructor_secret import OUTDIR_SECRET, SecretError, outdir_secret

    secret, made = outdir_secret(tmp_path)
    assert made and len(secret) >= 40
    path = tmp_path / OUTDIR_SECRET
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert outdir_secret(tmp_path) == (secret, False)  # every rerun: the same one, not said again
    assert [p.name for p in tmp_path.iterdir()] == [OUTDIR_SECRET]  # no temporary file left
    path.write_text("\n")
    with pytest.raises(SecretError, match="cannot be used"):
        outdir_secret(tmp_path)


def test_a_task_secret_holds_for_its_own_thread_only():
    import threading

    from grader.specs.instructor_secret import current_secret, task_secret

    before = current_secret()
    seen = []
    with task_secret("lane"):
        thread = threading.Thread(target=lambda: seen.append(current_secret()))
        thread.start()
        thread.join()
        assert current_secret() == b"lane"
    assert seen == [before] and current_secret() == before


def test_a_record_with_an_older_hash_format_is_graded_again(tmp_path):
    from grader.classroom.cli import build_parser
    from grader.classroom.results import write_record
    from grader.classroom.run import ClassRun

    subs, out = tmp_path / "subs", tmp_path / "out"
    write(subs / "kim.py")
    roster = read_roster(subs)
    run = ClassRun(roster, build_parser().parse_args([str(subs), "-o", str(out), "--only", "sum_squares_error"]))
    kim = roster.find("kim")
    fingerprint = run.fingerprint()
    record = StudentResult("kim", kim.slug, ("kim.py",), "plain", content_hash(kim, fingerprint),
                           exercises=(ExerciseSummary("sum_squares_error", "passed", 10.0, 10.0),))
    write_record(out, record)
    assert run.plan() == []  # up to date: kept
    write_record(out, StudentResult(**{**record.__dict__, "hash": old_content_hash(kim, fingerprint)}))
    assert [job.student.id for job in run.plan()] == ["kim"]  # written by the older grader: graded again
    write_record(out, StudentResult(**{**record.__dict__, "student": "someone else"}))
    assert [job.student.id for job in run.plan()] == ["kim"]  # another name's record under kim's file name


def test_a_student_whose_files_cannot_be_hashed_gets_a_row_saying_why_and_the_others_are_planned(tmp_path,
                                                                                                   monkeypatch):
    from grader.classroom import hashing
    from grader.classroom.cli import build_parser
    from grader.classroom.run import ClassRun

    subs, out = tmp_path / "subs", tmp_path / "out"
    write(subs / "kim.py")
    write(subs / "lee.py")
    real = hashing.content_hash

    def failing_for_kim(student, fingerprint, limits=None):
        if student.id == "kim":
            raise OSError(5, "Input/output error", str(subs / "kim.py"))
        return real(student, fingerprint, limits)

    monkeypatch.setattr(hashing, "content_hash", failing_for_kim)
    run = ClassRun(read_roster(subs), build_parser().parse_args([str(subs), "-o", str(out)]))
    assert [job.student.id for job in run.plan()] == ["lee"]
    row = run.results["kim"]
    assert row.error_kind == "internal" and "Input/output error" in row.error
    assert str(tmp_path) not in row.error and "SUBMISSIONS/kim.py" in row.error  # no path of this machine
    assert (out / "reports" / "kim.html").is_file()
