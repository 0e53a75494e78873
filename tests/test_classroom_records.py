"""Resuming from OUTDIR/.results: a record that cannot be trusted never stands for a grade.

A record is kept on a rerun only when it is whole, of this format, written for this student
and hashed from their files with this grader's fingerprint. Anything else found there (a file
cut short, not JSON, a JSON list, fields of the wrong type, an earlier format, another grader's
hash, the half-written ``.part`` of a killed run) is ignored: that student is graded again, with
no traceback, and the gradebook is the one a clean run gives. ``--force`` grades everyone again.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from test_classroom import CLASS, grade_class, gradebook_without_times
from test_classroom_resume import planned, records

pytestmark = pytest.mark.usefixtures("class_isolation")  # every test here grades a class

ONLY = ("--only", "sum_squares_error")
# One student per way a record can be damaged; "untouched" keeps a good record throughout.
DAMAGED = ("truncated", "not_json", "json_list", "wrong_types", "broken_report", "old_format", "other_grader",
           "half_written")
STUDENTS = (*DAMAGED, "untouched")


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """A small class graded once: copies of one correct and one wrong sum_squares_error."""
    base = tmp_path_factory.mktemp("records")
    subs, out = base / "submissions", base / "graded"
    subs.mkdir()
    for index, name in enumerate(STUDENTS):
        # Every other student hands in the wrong one: a kept record of the wrong file would show.
        source = "kim_minsu.py" if index % 2 else "smithjohn_48213_1190877_chapter4.py"
        shutil.copy(CLASS / source, subs / f"{name}.py")
    proc = grade_class(subs, out, *ONLY)
    assert proc.returncode == 0, proc.stderr
    assert planned(proc) == (len(STUDENTS), 0)
    return subs, out


def copy_of(first_run, tmp_path) -> tuple[Path, Path]:
    subs, out = first_run
    shutil.copytree(out, tmp_path / "graded")
    return subs, tmp_path / "graded"


def record_file(out: Path, slug: str) -> Path:
    return out / ".results" / f"{slug}.json"


@pytest.fixture(scope="module")
def damaged_rerun(first_run, tmp_path_factory):
    """The first run's OUTDIR with one record damaged per student of DAMAGED, graded again."""
    from grader.classroom.hashing import content_hash
    from grader.classroom.roster import read_roster

    subs, first_out = first_run
    out = tmp_path_factory.mktemp("damaged") / "graded"
    shutil.copytree(first_out, out)
    results = out / ".results"

    def edit(slug: str, change) -> None:
        data = json.loads(record_file(out, slug).read_text(encoding="utf-8"))
        change(data)
        record_file(out, slug).write_text(json.dumps(data), encoding="utf-8")

    text = record_file(out, "truncated").read_text(encoding="utf-8")
    record_file(out, "truncated").write_text(text[:len(text) // 2], encoding="utf-8")
    record_file(out, "not_json").write_bytes(b"\x89PNG\r\n\x1a\n not a record at all")
    record_file(out, "json_list").write_text(json.dumps([json.loads(record_file(out, "json_list").read_text())]),
                                             encoding="utf-8")
    # The right hash, so only the fields' types can tell: an error that is not text, files that are one string.
    edit("wrong_types", lambda d: d.update(error=None, files="wrong_types.py"))
    # The right hash and a summary that reads, but a full report that does not (its checks are not checks).
    edit("broken_report", lambda d: d["report"]["exercises"][0].update(checks=[{"not a check": 1}]))
    edit("old_format", lambda d: d.update(format=d["format"] - 1))
    # What the same files hash to under another grader's code or specs.
    other = content_hash(read_roster(subs).find("other_grader"), "the fingerprint of another grader version")
    edit("other_grader", lambda d: d.update(hash=other))
    # A run killed while writing this student's record and report: only the temporary files are there.
    record_file(out, "half_written").rename(results / ".half_written.json.k1ll3d.part")
    text = (results / ".half_written.json.k1ll3d.part").read_text(encoding="utf-8")
    (results / ".half_written.json.k1ll3d.part").write_text(text[:40], encoding="utf-8")
    (out / "reports" / "half_written.html").rename(out / "reports" / ".half_written.html.k1ll3d.part")
    # And one beside a good record: removed, the record stands.
    (results / ".untouched.json.0ld.part").write_text('{"format": 1, "student": "untou', encoding="utf-8")
    before = records(out)
    proc = grade_class(subs, out, *ONLY)
    return out, before, proc


def test_each_damaged_or_foreign_record_is_graded_again_and_only_those(damaged_rerun):
    out, before, proc = damaged_rerun
    assert proc.returncode == 0, proc.stderr
    assert planned(proc) == (len(DAMAGED), 1)
    after = records(out)
    assert after["untouched"] == before["untouched"], "a good record was graded again"
    assert sorted(after) == sorted(STUDENTS)
    for slug in DAMAGED:
        data = json.loads(record_file(out, slug).read_text(encoding="utf-8"))
        assert isinstance(data, dict) and data["student"] == slug and isinstance(data["report"], dict), slug


def test_a_damaged_record_gives_no_traceback_and_the_gradebook_of_a_clean_run(damaged_rerun, first_run):
    out, _before, proc = damaged_rerun
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "0 in error" in proc.stdout
    rows = gradebook_without_times(out)
    assert rows == gradebook_without_times(first_run[1])
    # The rows themselves: the right file's score, no stray error text ("None") from a field of the wrong type.
    assert {name: (row["score"], row["error"]) for name, row in rows.items()} == {
        name: ("10" if index % 2 else "0", "") for index, name in enumerate(STUDENTS)}


def test_half_written_files_of_a_killed_run_are_removed_from_outdir(damaged_rerun):
    out, _before, _proc = damaged_rerun
    assert not list(out.rglob("*.part"))
    assert (out / "reports" / "half_written.html").is_file()


def test_force_grades_every_student_again_and_gives_the_same_gradebook(first_run, tmp_path):
    subs, out = copy_of(first_run, tmp_path)
    before = records(out)
    proc = grade_class(subs, out, *ONLY, "--force")
    assert proc.returncode == 0, proc.stderr
    assert planned(proc) == (len(STUDENTS), 0)
    after = records(out)
    assert all(after[slug] != before[slug] for slug in STUDENTS), "a student was not graded again"
    assert gradebook_without_times(out) == gradebook_without_times(first_run[1])


def test_a_rerun_with_an_option_that_changes_results_grades_everyone_again(first_run, tmp_path):
    # The per-call time limit is part of the grader's fingerprint: the same files, other results possible.
    subs, out = copy_of(first_run, tmp_path)
    proc = grade_class(subs, out, *ONLY, "--timeout", "4")
    assert proc.returncode == 0, proc.stderr
    assert planned(proc) == (len(STUDENTS), 0)
    proc = grade_class(subs, out, *ONLY, "--timeout", "4")
    assert planned(proc) == (0, len(STUDENTS))  # and the new records stand for the new option


PLUGIN = '''
"""An instructor's plugin: it only looks at each report (its code is what a rerun must notice)."""
from grader import hookimpl


@hookimpl
def grader_report_ready(report):
    return None
'''


def test_editing_an_instructors_plugin_grades_everyone_again(first_run, tmp_path):
    # The plugin's code decides results like the grader's own: a record made with its old code is another grader's.
    subs, out = copy_of(first_run, tmp_path)
    plugin = tmp_path / "course_plugin.py"
    plugin.write_text(PLUGIN, encoding="utf-8")
    proc = grade_class(subs, out, *ONLY, "--plugin", str(plugin))
    assert proc.returncode == 0, proc.stderr
    assert planned(proc) == (len(STUDENTS), 0)
    assert planned(grade_class(subs, out, *ONLY, "--plugin", str(plugin))) == (0, len(STUDENTS))
    plugin.write_text(PLUGIN.replace("return None", "return None  # fixed for this term"), encoding="utf-8")
    proc = grade_class(subs, out, *ONLY, "--plugin", str(plugin))
    assert planned(proc) == (len(STUDENTS), 0)
    assert gradebook_without_times(out) == gradebook_without_times(first_run[1])
