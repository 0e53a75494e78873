"""Who handed in what: the layouts instructors download, and every kind of bad class folder.

These tests read rosters and stage students without grading (fast); the last ones run
`grade class` on bad input and check the message and the exit status.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest

from conftest import run_grade
from grader.classroom.roster import RosterError, read_roster
from grader.classroom.hashing import content_hash
from grader.classroom.staging import StagingError, stage

CODE = "def sum_squares_error(y, t):\n    return 0.5 * ((y - t) ** 2).sum()\n"


def touch(path: Path, text: str = CODE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def ids(roster) -> dict[str, str]:
    return {s.id: s.layout for s in roster.students}


def test_plain_entries_are_files_folders_and_archives_named_after_the_student(tmp_path):
    touch(tmp_path / "kim.py")
    touch(tmp_path / "lee.ipynb", "{}")
    touch(tmp_path / "park" / "chapter4.py")
    touch(tmp_path / "choi.tar.gz", "")
    touch(tmp_path / "notes.docx", "")
    touch(tmp_path / ".DS_Store", "")
    roster = read_roster(tmp_path)
    assert ids(roster) == {"choi": "plain", "kim": "plain", "lee": "plain", "park": "plain"}
    assert roster.ignored == (("notes.docx", "not a .py file, a notebook, a folder or an archive"),)


def test_canvas_files_are_grouped_per_student_with_their_own_names(tmp_path):
    touch(tmp_path / "kimminsu_48213_1190877_chapter4.ipynb", "{}")
    touch(tmp_path / "kimminsu_48213_1190878_two_layer_net.py")
    touch(tmp_path / "leejieun_LATE_50001_1190900_chapter4.py")
    touch(tmp_path / "parkjs_7_1_hw.py")
    touch(tmp_path / "parkjs_8_2_hw.py")  # two different people Canvas both calls 'parkjs'
    roster = read_roster(tmp_path)
    assert ids(roster) == {"kimminsu": "canvas", "leejieun": "canvas", "parkjs_7": "canvas", "parkjs_8": "canvas"}
    kim = roster.find("kimminsu")
    assert sorted(e.target for e in kim.entries) == ["chapter4.ipynb", "two_layer_net.py"]


def test_moodle_folders_and_files_are_one_student_each(tmp_path):
    touch(tmp_path / "Kim Minsu_123456_assignsubmission_file_" / "chapter4.ipynb", "{}")
    touch(tmp_path / "Kim Minsu_123456_assignsubmission_onlinetext_" / "onlinetext.html", "<p>hi</p>")
    touch(tmp_path / "田中 太郎_123457_assignsubmission_file_chapter4.py")
    roster = read_roster(tmp_path)
    assert ids(roster) == {"Kim Minsu_123456": "moodle", "田中 太郎_123457": "moodle"}
    assert len(roster.find("Kim Minsu_123456").entries) == 2
    # A name that is not itself a file name gets a readable slug with a suffix of its own.
    assert roster.find("田中 太郎_123457").slug.startswith("田中_太郎_123457-")


def test_nbgrader_submitted_folders_from_the_course_root_or_submitted(tmp_path):
    touch(tmp_path / "submitted" / "kim" / "ps4" / "chapter4.ipynb", "{}")
    touch(tmp_path / "submitted" / "lee" / "ps4" / "chapter4.ipynb", "{}")
    touch(tmp_path / "submitted" / "lee" / "ps3" / "old.ipynb", "{}")
    touch(tmp_path / "source" / "ps4" / "chapter4.ipynb", "{}")
    assert ids(read_roster(tmp_path)) == {"kim": "nbgrader", "lee": "nbgrader"}
    assert ids(read_roster(tmp_path / "submitted")) == {"kim": "nbgrader", "lee": "nbgrader"}
    roster = read_roster(tmp_path, assignment="ps3")
    assert ids(roster) == {"lee": "nbgrader"}
    assert roster.ignored == (("kim", "has no assignment folder 'ps3'"),)


def test_github_classroom_clones_are_named_after_the_username(tmp_path):
    for user in ("kimminsu", "jieun-lee"):
        touch(tmp_path / f"chapter4-{user}" / "chapter4.py")
        (tmp_path / f"chapter4-{user}" / ".git").mkdir()
    assert ids(read_roster(tmp_path)) == {"jieun-lee": "github-classroom", "kimminsu": "github-classroom"}
    # Two ordinary students whose names share a dash are not a classroom.
    other = tmp_path / "other"
    touch(other / "kim-a" / "x.py")
    touch(other / "kim-b" / "x.py")
    assert ids(read_roster(other)) == {"kim-a": "plain", "kim-b": "plain"}


def test_a_student_pattern_says_who_owns_what(tmp_path):
    touch(tmp_path / "hw4_kim_main.py")
    touch(tmp_path / "hw4_kim_net.py")
    touch(tmp_path / "hw4_lee_main.py")
    touch(tmp_path / "readme.txt", "")
    roster = read_roster(tmp_path, pattern=r"hw4_(?P<student>[a-z]+)_(?P<file>\w+\.py)")
    assert ids(roster) == {"kim": "pattern", "lee": "pattern"}
    assert sorted(e.target for e in roster.find("kim").entries) == ["main.py", "net.py"]
    assert roster.ignored == (("readme.txt", "does not match --student-pattern"),)
    with pytest.raises(RosterError, match="needs a group"):
        read_roster(tmp_path, pattern=r"hw4_\w+")
    with pytest.raises(RosterError, match="not a valid regular expression"):
        read_roster(tmp_path, pattern=r"hw4_(")


def test_two_entries_of_the_same_student_are_named_and_neither_is_graded(tmp_path):
    touch(tmp_path / "kim.py")
    touch(tmp_path / "kim.ipynb", "{}")
    touch(tmp_path / "lee.py")
    roster = read_roster(tmp_path)
    kim = roster.find("kim")
    assert "kim.ipynb and kim.py both belong to this student" in kim.problem
    with pytest.raises(StagingError, match="both belong"):
        stage(kim, tmp_path / "stage")
    assert roster.find("lee").problem == ""


def test_empty_and_unrecognisable_folders_are_refused_with_a_message(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(RosterError, match="is empty"):
        read_roster(tmp_path / "empty")
    touch(tmp_path / "odd" / "essay.docx", "")
    with pytest.raises(RosterError, match="no student submissions recognised.*essay.docx"):
        read_roster(tmp_path / "odd")
    with pytest.raises(RosterError, match="no such folder"):
        read_roster(tmp_path / "missing")
    with pytest.raises(RosterError, match="is a file"):
        read_roster(touch(tmp_path / "one.py"))


def test_staging_copies_only_the_students_files_and_finds_their_code(tmp_path):
    folder = tmp_path / "subs" / "kim"
    touch(folder / "ch04" / "train.py")
    touch(folder / "ch04" / "two_layer_net.py")
    touch(folder / "common" / "functions.py")
    touch(folder / ".ipynb_checkpoints" / "x.py")
    os.symlink("/etc/passwd", folder / "ch04" / "passwd.py")
    os.mkfifo(folder / "ch04" / "pipe.py")
    student = read_roster(tmp_path / "subs").find("kim")
    staged = stage(student, tmp_path / "stage")
    assert staged.path == tmp_path / "stage" / "ch04"  # the folder: two files graded together
    assert sorted(p.name for p in staged.code_files) == ["train.py", "two_layer_net.py"]
    assert (tmp_path / "stage" / "common" / "functions.py").is_file()
    assert not (tmp_path / "stage" / ".ipynb_checkpoints").exists()
    assert not (tmp_path / "stage" / "ch04" / "passwd.py").exists()
    assert staged.notes == ("ch04/passwd.py: a symbolic link, not followed",
                            "ch04/pipe.py: not a regular file, not copied")


def test_an_entry_that_is_a_fifo_or_a_link_is_that_students_error(tmp_path):
    os.mkfifo(tmp_path / "kim.py")
    os.symlink("/etc/hostname", tmp_path / "lee.py")
    roster = read_roster(tmp_path)
    with pytest.raises(StagingError, match="not a regular file"):
        stage(roster.find("kim"), tmp_path / "a")
    with pytest.raises(StagingError, match="symbolic link"):
        stage(roster.find("lee"), tmp_path / "b")


def test_the_content_hash_follows_bytes_not_dates(tmp_path):
    path = touch(tmp_path / "subs" / "kim.py")
    student = read_roster(tmp_path / "subs").find("kim")
    first = content_hash(student, "grader-1")
    os.utime(path, (1, 1))
    assert content_hash(student, "grader-1") == first
    assert content_hash(student, "grader-2") != first  # the grader or its options changed
    path.write_text(CODE + "# more\n", encoding="utf-8")
    assert content_hash(student, "grader-1") != first


# ---- the command on bad input ---------------------------------------------------------------------

def test_bad_class_folders_get_a_message_and_exit_status_2(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = run_grade("class", str(tmp_path / "empty"), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2 and "is empty" in proc.stderr and "Traceback" not in proc.stderr
    subs = tmp_path / "subs"
    touch(subs / "kim.py")
    for outdir, message in ((subs, "is SUBMISSIONS itself"), (subs / "graded", "is inside SUBMISSIONS")):
        proc = run_grade("class", str(subs), "-o", str(outdir))
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    proc = run_grade("class", str(subs), "-o", str(tmp_path / "out"), "--student", "nobody")
    assert proc.returncode == 2 and "no student nobody" in proc.stderr
    assert not (subs / "graded").exists()


def test_list_shows_who_handed_in_what_and_grades_nothing(tmp_path):
    subs = tmp_path / "subs"
    touch(subs / "kimminsu_48213_1190877_chapter4.py")
    touch(subs / "lee" / "chapter4.py")
    touch(subs / "park.py")
    touch(subs / "park.ipynb", "{}")
    proc = run_grade("class", str(subs), "-o", str(tmp_path / "out"), "--list")
    assert proc.returncode == 0
    assert "3 students" in proc.stdout
    assert "kimminsu  [canvas]  kimminsu_48213_1190877_chapter4.py" in proc.stdout
    assert "lee       [plain]  lee/" in proc.stdout
    assert "park.ipynb and park.py both belong to this student" in proc.stdout
    assert not (tmp_path / "out").exists()


def test_help_documents_the_command(tmp_path):
    proc = run_grade("class", "--help")
    assert proc.returncode == 0
    for option in ("SUBMISSIONS", "-o OUTDIR", "-j N", "--list", "--force", "--student ID", "--student-pattern",
                   "--lang", "--markdown", "--student-timeout", "Canvas", "Moodle", "nbgrader", "GitHub"):
        assert option in proc.stdout, option


@pytest.mark.usefixtures("class_isolation")
def test_a_students_error_is_told_in_their_language(tmp_path):
    subs = tmp_path / "subs"
    touch(subs / "kim.py", "# 4장 과제입니다\n" + CODE)
    touch(subs / "kim.ipynb", "{}")
    touch(subs / "lee.py", "# 4장 과제\n" + CODE)
    proc = run_grade("class", str(subs), "-o", str(tmp_path / "out"), "-j", "1", "--only", "sum_squares_error")
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "out" / "reports" / "kim.html").read_text(encoding="utf-8")
    assert '<html lang="ko">' in page
    assert "kim.ipynb 및 kim.py이(가) 모두 이 학생의 제출물입니다" in page
    assert "1 in error" in proc.stdout


def test_an_archive_in_a_canvas_name_or_an_lms_folder_is_extracted(tmp_path):
    import zipfile

    subs = tmp_path / "subs"
    with zipfile.ZipFile(touch(subs / "kimminsu_48213_1190877_hw4.zip", ""), "w") as zf:
        zf.writestr("hw4/chapter4.py", CODE)
    folder = subs / "Lee Jieun_123456_assignsubmission_file_"
    folder.mkdir()
    with zipfile.ZipFile(folder / "lee.zip", "w") as zf:
        zf.writestr("chapter4.py", CODE)
    roster = read_roster(subs)
    assert ids(roster) == {"kimminsu": "canvas", "Lee Jieun_123456": "moodle"}
    kim = stage(roster.find("kimminsu"), tmp_path / "kim")
    assert kim.path == tmp_path / "kim" / "hw4" / "chapter4.py"
    lee = stage(roster.find("Lee Jieun_123456"), tmp_path / "lee")
    assert lee.path == tmp_path / "lee" / "chapter4.py"


def test_a_class_is_not_graded_without_the_strong_sandbox_unless_the_instructor_says_so(tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    (subs / "kim.py").parent.mkdir(parents=True)
    (subs / "kim.py").write_text("def sum_squares_error(y, t):\n    return 0.5 * ((y - t) ** 2).sum()\n",
                                 encoding="utf-8")
    monkeypatch.setenv("DLFS_SANDBOX", "off")  # as on a laptop without bubblewrap
    proc = run_grade("class", str(subs), "-o", str(tmp_path / "out"), "--only", "sum_squares_error")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    # The level it names depends on the machine (plain seccomp, or landlock where the kernel has it).
    assert "isolates students' code only as '" in proc.stderr and "namespaces+seccomp" not in proc.stderr.split("'")[1]
    assert "--allow-weak-isolation" in proc.stderr and "grade --doctor" in proc.stderr
    assert not (tmp_path / "out" / "gradebook.csv").exists()
    proc = run_grade("class", str(subs), "-o", str(tmp_path / "out"), "--only", "sum_squares_error", "-j", "1",
                     "--allow-weak-isolation")
    assert proc.returncode == 0, proc.stderr
    assert "graded 1 student in" in proc.stdout
    assert "\"kim\",10," in (tmp_path / "out" / "gradebook.csv").read_text(encoding="utf-8-sig")


@pytest.mark.usefixtures("class_isolation")
def test_escape_sequences_in_names_and_messages_never_reach_the_instructors_terminal(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ev\x1b[2Jil.py").write_text("def sum_squares_error(y, t):\n    return 0\n", encoding="utf-8")
    (subs / "zed.py").write_text("def f(:  # \x1b[2J\x1b[32mALL PASSED\n", encoding="utf-8")
    for extra in ((), ("--list",)):
        proc = run_grade("class", str(subs), "-o", str(tmp_path / "out"), "--only", "sum_squares_error", "-j", "1",
                         *extra)
        assert "\x1b" not in proc.stdout + proc.stderr, extra
        assert "\\x1b" in proc.stdout, extra  # shown, visibly escaped


@pytest.mark.parametrize("address", ["notaurl", "tcp://head", "nosuch://head:8786", "tcp://:8786"])
def test_a_scheduler_that_is_no_address_fails_at_once_with_one_line(tmp_path, address):
    pytest.importorskip("distributed", reason="without Dask, --scheduler says how to install it (test_classroom_dask)")
    touch(tmp_path / "subs" / "kim.py")
    # Dask itself waited 60 s to close the client it could not make, then printed a traceback.
    proc = run_grade("class", str(tmp_path / "subs"), "-o", str(tmp_path / "out"), "--scheduler", address,
                     timeout=50)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "is not a Dask scheduler's address" in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()  # refused before anything was read or written


@pytest.mark.usefixtures("class_isolation")
def test_a_class_without_a_secret_gets_one_in_outdir_and_says_so_once(tmp_path, monkeypatch):
    monkeypatch.delenv("DLFS_GRADER_SECRET", raising=False)
    touch(tmp_path / "subs" / "kim.py")
    out = tmp_path / "out"
    first = run_grade("class", str(tmp_path / "subs"), "-o", str(out), "-j", "1", "--only", "sum_squares_error")
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("no instructor's secret was given") == 1
    kept = out / ".instructor-secret"
    secret = kept.read_text()
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    assert secret.strip() not in first.stdout + first.stderr + (out / "gradebook.json").read_text(encoding="utf-8")
    again = run_grade("class", str(tmp_path / "subs"), "-o", str(out), "-j", "1", "--only", "sum_squares_error")
    assert "no instructor's secret" not in again.stdout and "0 to grade, 1 up to date" in again.stdout  # the same one
    assert kept.read_text() == secret
    # A secret the instructor chose wins, and is not written anywhere.
    chosen = tmp_path / "mine.txt"
    chosen.write_text("my own secret\n")
    third = run_grade("class", str(tmp_path / "subs"), "-o", str(tmp_path / "out3"), "-j", "1",
                      "--only", "sum_squares_error", "--secret-file", str(chosen))
    assert third.returncode == 0 and not (tmp_path / "out3" / ".instructor-secret").exists()


@pytest.mark.usefixtures("class_isolation")
def test_a_student_whose_reports_cannot_be_written_costs_only_their_own_row(tmp_path):
    touch(tmp_path / "subs" / "kim.py")
    touch(tmp_path / "subs" / "lee.py")
    out = tmp_path / "out"
    (out / "reports" / "kim.html").mkdir(parents=True)  # in the way of kim's page: the write fails
    proc = run_grade("class", str(tmp_path / "subs"), "-o", str(out), "-j", "1", "--only", "sum_squares_error")
    assert proc.returncode == 0, proc.stderr
    rows = {row["student"]: row for row in csv.DictReader(
        io.StringIO((out / "gradebook.csv").read_text(encoding="utf-8-sig")))}
    assert rows["lee"]["score"] == "10" and rows["lee"]["error"] == ""
    assert "the reports could not be written (IsADirectoryError" in rows["kim"]["error"]
    assert str(tmp_path) not in (out / "gradebook.csv").read_text(encoding="utf-8-sig")
    assert "1 in error" in proc.stdout and "Traceback" not in proc.stderr
