"""Grades and feedback back into the LMS: each LMS's download graded by `grade class`, then written into
that LMS's own grade export (fixtures in tests/fixtures/lms, from each LMS's documentation), compared
column for column with the template: only this assignment's cells change."""
from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import ROOT, run_grade

LMS = ROOT / "tests" / "fixtures" / "lms"
SUBMISSIONS = ROOT / "tests" / "fixtures" / "submissions"
ONLY = ("--only", "sum_squares_error", "--only", "cross_entropy_error")  # 25 points
CORRECT, HALF = SUBMISSIONS / "correct.py", SUBMISSIONS / "mistake_sse_missing_half.py"
DOWNLOADS = {  # each LMS's download, as it names its files: (path in the download, submission)
    "canvas": [("kimminsu_1001_90001_chapter4.py", CORRECT), ("leejieun_LATE_1002_90002_chapter4.py", HALF),
               ("parkseo_1003_90003_chapter4.py", CORRECT)],
    "moodle": [("Kim Minsu_501234_assignsubmission_file_/chapter4.py", CORRECT),
               ("Lee Jieun_501235_assignsubmission_file_/chapter4.py", HALF)],
    "blackboard": [("Chapter 4_kimminsu_attempt_2026-10-05-23-40-12_chapter4.py", CORRECT),
                   ("Chapter 4_leejieun_attempt_2026-10-05-23-51-02_chapter4.py", HALF)],
    "brightspace": [("101-2001 - Minsu Kim - Oct 5, 2026 1140 PM/chapter4.py", CORRECT),
                    ("102-2002 - Jieun Lee - Oct 5, 2026 1151 PM/chapter4.py", HALF)],
}
PATTERNS = {"blackboard": r"^Chapter 4_(?P<student>[^_]+)_attempt_[0-9-]+_(?P<file>.+)$",
            "brightspace": r"^\d+-\d+ - (?P<student>.+?) - "}


def read_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


@pytest.fixture(scope="module")
def graded(tmp_path_factory, class_isolation):
    root = tmp_path_factory.mktemp("lms")

    def grade_download(lms: str):
        download = root / lms / "download"
        for name, source in DOWNLOADS[lms]:
            (download / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, download / name)
        pattern = ("--student-pattern", PATTERNS[lms]) if lms in PATTERNS else ()
        return run_grade("class", str(download), "-o", str(root / lms / "graded"), "-j", "2", *ONLY, *pattern,
                         timeout=300)

    # The four downloads are four independent class runs (folders of their own): graded two at a time.
    with ThreadPoolExecutor(2) as pool:
        runs = dict(zip(DOWNLOADS, pool.map(grade_download, DOWNLOADS)))
    for lms, run in runs.items():
        assert run.returncode == 0, f"{lms}: {run.stdout + run.stderr}"
    return root, {lms: root / lms / "graded" for lms in DOWNLOADS}


def export(lms: str, out: Path, upload: Path, *extra: str):
    return run_grade("export", lms, str(out), "--template", str(LMS / f"{lms}_export.csv" if lms != "moodle"
                                                                   else LMS / "moodle_worksheet.csv"),
                     "-o", str(upload), *extra)


def changed_cells(template: list[list[str]], upload: list[list[str]]) -> dict[tuple[int, int], tuple[str, str]]:
    assert len(upload) == len(template) and [len(r) for r in upload] == [len(r) for r in template]
    return {(i, j): (t, u) for i, (trow, urow) in enumerate(zip(template, upload))
            for j, (t, u) in enumerate(zip(trow, urow)) if t != u}


def test_canvas_the_assignment_column_is_filled_by_user_id_and_a_grade_already_there_is_kept(graded, tmp_path):
    _root, outs = graded
    upload = tmp_path / "canvas-upload.csv"
    ambiguous = export("canvas", outs["canvas"], upload)
    assert ambiguous.returncode == 2 and "several grade columns" in ambiguous.stderr and not upload.exists()
    run = export("canvas", outs["canvas"], upload, "--column", "Chapter 4")
    assert run.returncode == 1, run.stderr  # written, but parkseo's grade in Canvas was kept
    assert "parkseo (20.00, ours 25)" in run.stdout and "2 row(s) of the template without a submission" in run.stdout  # choidana, the test student
    template = read_rows(LMS / "canvas_export.csv")
    assert changed_cells(template, read_rows(upload)) == {(2, 6): ("", "25"), (3, 6): ("", "15")}
    raw = upload.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b"    Points Possible" in raw
    again = export("canvas", outs["canvas"], upload, "--column", "Chapter 4 Gradients (5501)", "--overwrite")
    assert again.returncode == 0, again.stdout + again.stderr
    assert changed_cells(template, read_rows(upload))[(4, 6)] == ("20.00", "25")


def test_moodle_the_worksheet_grade_is_filled_by_participant_id(graded, tmp_path):
    _root, outs = graded
    upload = tmp_path / "moodle-upload.csv"
    run = export("moodle", outs["moodle"], upload)
    assert run.returncode == 0, run.stdout + run.stderr
    template = read_rows(LMS / "moodle_worksheet.csv")
    assert changed_cells(template, read_rows(upload)) == {(1, 4): ("", "25"), (2, 4): ("", "15")}


def test_blackboard_the_column_named_with_its_id_is_filled_by_username(graded, tmp_path):
    _root, outs = graded
    upload = tmp_path / "bb-upload.csv"
    run = export("blackboard", outs["blackboard"], upload, "--column", "Chapter 4")
    assert run.returncode == 0, run.stdout + run.stderr
    template = read_rows(LMS / "blackboard_export.csv")
    assert changed_cells(template, read_rows(upload)) == {(1, 7): ("", "25"), (2, 7): ("", "15")}


def test_brightspace_a_download_without_identifiers_is_listed_then_matched_with_a_map(graded, tmp_path):
    _root, outs = graded
    upload = tmp_path / "d2l-upload.csv"
    unmatched = export("brightspace", outs["brightspace"], upload)
    assert unmatched.returncode == 1 and "not matched by any identifier" in unmatched.stdout
    assert "Jieun Lee" in unmatched.stdout and "Minsu Kim" in unmatched.stdout
    mapped = export("brightspace", outs["brightspace"], upload, "--map", str(LMS / "brightspace_map.csv"))
    assert mapped.returncode == 0, mapped.stdout + mapped.stderr
    template = read_rows(LMS / "brightspace_export.csv")
    assert changed_cells(template, read_rows(upload)) == {(1, 5): ("", "25"), (2, 5): ("", "15")}
    assert all(row[-1] == "#" for row in read_rows(upload)[1:])  # End-of-Line Indicator kept


def test_feedback_zips_use_each_lms_bulk_upload_names_and_hold_each_students_report(graded, tmp_path):
    _root, outs = graded
    moodle = tmp_path / "moodle.zip"
    assert run_grade("export", "feedback", str(outs["moodle"]), "--lms", "moodle", "-o", str(moodle)).returncode == 0
    with zipfile.ZipFile(moodle) as archive:
        assert sorted(archive.namelist()) == ["Kim Minsu_501234_assignsubmission_file_/report.html",
                                              "Lee Jieun_501235_assignsubmission_file_/report.html"]
        page = archive.read("Kim Minsu_501234_assignsubmission_file_/report.html")
    slug = next(s["slug"] for s in json.loads((outs["moodle"] / "gradebook.json").read_text(encoding="utf-8"))["students"]
                if s["student"] == "Kim Minsu_501234")
    assert page == (outs["moodle"] / "reports" / f"{slug}.html").read_bytes()
    canvas = tmp_path / "canvas.zip"
    assert run_grade("export", "feedback", str(outs["canvas"]), "--lms", "canvas", "-o", str(canvas)).returncode == 0
    with zipfile.ZipFile(canvas) as archive:
        assert sorted(archive.namelist()) == ["kimminsu_1001_90001_chapter4.html",
                                              "leejieun_LATE_1002_90002_chapter4.html",
                                              "parkseo_1003_90003_chapter4.html"]
    wrong = run_grade("export", "feedback", str(outs["blackboard"]), "--lms", "canvas", "-o", str(tmp_path / "x.zip"))
    assert wrong.returncode == 1 and "carried no canvas name" in wrong.stdout


def test_bad_input_gets_a_one_line_message_and_exit_2(graded, tmp_path):
    _root, outs = graded
    missing = run_grade("export", "canvas", str(tmp_path / "nothing"), "--template", str(LMS / "canvas_export.csv"),
                        "-o", str(tmp_path / "u.csv"))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "no gradebook.json" in missing.stderr
    none = run_grade("export", "canvas", str(outs["canvas"]), "--template", str(LMS / "canvas_export.csv"),
                     "-o", str(tmp_path / "u.csv"), "--column", "Chapter 5")
    assert none.returncode == 2 and "'Chapter 4 Gradients (5501)'" in none.stderr and not (tmp_path / "u.csv").exists()
    wrong_lms = run_grade("export", "blackboard", str(outs["canvas"]), "--template", str(LMS / "canvas_export.csv"),
                          "-o", str(tmp_path / "u.csv"))
    assert wrong_lms.returncode == 2 and "no blackboard grade column" in wrong_lms.stderr


@pytest.mark.parametrize("lms", ["canvas", "blackboard", "brightspace", "moodle"])
def test_a_column_worth_other_points_is_refused_until_the_teacher_says_scale_or_as_is(graded, tmp_path, lms):
    # The LMS's column is worth 100 points; the class was graded out of 25. Typed in as they are,
    # 25 and 15 would be a quarter of the grade they mean.
    _root, outs = graded
    name = f"{lms}_export.csv" if lms != "moodle" else "moodle_worksheet.csv"
    text = (LMS / name).read_bytes().decode("utf-8-sig")
    text = {"canvas": lambda t: t.replace(",25.00,(read only)", ",100.00,(read only)"),
            "blackboard": lambda t: t.replace("[Total Pts: 25 Score]", "[Total Pts: 100 Score]"),
            "brightspace": lambda t: t.replace("MaxPoints:25 ", "MaxPoints:100 "),
            "moodle": lambda t: t.replace(",25.00,", ",100.00,")}[lms](text)
    template = tmp_path / name
    template.write_bytes(("\ufeff" if lms == "canvas" else "").encode() + text.encode("utf-8"))
    column = {"canvas": ("--column", "Chapter 4"), "blackboard": ("--column", "Chapter 4")}.get(lms, ())
    mapping = ("--map", str(LMS / "brightspace_map.csv")) if lms == "brightspace" else ()
    upload = tmp_path / "upload.csv"

    def run(*extra):
        return run_grade("export", lms, str(outs[lms]), "--template", str(template), "-o", str(upload),
                         *column, *mapping, *extra)

    refused = run()
    assert refused.returncode == 2 and not upload.exists(), refused.stdout + refused.stderr
    assert "worth 100 points" in refused.stderr and "out of 25" in refused.stderr and "--points scale" in refused.stderr
    scaled = run("--points", "scale")
    assert scaled.returncode in (0, 1), scaled.stdout + scaled.stderr  # canvas: parkseo's grade kept
    cells = {u for _t, u in changed_cells(read_rows(template), read_rows(upload)).values()}
    assert {"100", "60"} <= cells and not {"25", "15"} & cells
    as_is = run("--points", "as-is")
    assert as_is.returncode in (0, 1) and "worth 100 points" in as_is.stdout
    cells = {u for _t, u in changed_cells(read_rows(template), read_rows(upload)).values()}
    assert {"25", "15"} <= cells
