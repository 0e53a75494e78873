"""docs/teaching.md: every `sh` block of the guide, run in order on a Canvas class of three students."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT

GUIDE = ROOT / "docs" / "teaching.md"
SUBMISSIONS = ROOT / "tests" / "fixtures" / "submissions"
DOWNLOAD = {"kimminsu_1001_90001_chapter4.py": "correct.py", "leejieun_LATE_1002_90002_chapter4.py":
            "mistake_sse_missing_half.py", "choidana_1004_90004_chapter4.py": "correct.py"}


def guide_blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), flags=re.S | re.M)


def test_the_guide_has_a_command_for_each_step_of_the_term():
    commands = "\n".join(guide_blocks())
    for step in ("cat > week4.toml", "secrets.token_hex", "grade class canvas-download/ -o graded/ --list",
                 "--assignment-file week4.toml", "--overrides overrides.csv", "grade export canvas",
                 "grade export feedback"):
        assert step in commands


def test_the_teaching_guides_commands_grade_a_class_and_fill_the_lms_export(tmp_path, class_isolation):
    with zipfile.ZipFile(tmp_path / "submissions.zip", "w") as archive:
        for name, source in DOWNLOAD.items():
            archive.write(SUBMISSIONS / source, name)
    shutil.copy(ROOT / "tests" / "fixtures" / "lms" / "canvas_export.csv", tmp_path / "Grades-DLFS_101.csv")
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    prelude = f'set -euo pipefail\ngrade() {{ "{sys.executable}" -m grader.cli "$@"; }}\n'
    for number, block in enumerate(guide_blocks(), start=1):
        run = subprocess.run(["bash", "-c", prelude + block], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=300)
        assert run.returncode == 0, f"block {number}:\n{block}\n{run.stdout}\n{run.stderr}"
    rows = list(csv.reader(io.StringIO((tmp_path / "canvas-upload.csv").read_bytes().decode("utf-8-sig"))))
    column = rows[0].index("Chapter 4 Gradients (5501)")
    by_id = {row[1]: row[column] for row in rows[1:]}
    # The assignment file's points (5 and 20, not the specs' 10 and 15): leejieun 0 + 20 graded, the
    # override makes it 4 + 20, and Canvas's LATE mark costs one day's 10% of 25; parkseo handed nothing
    # in: their row stays as Canvas wrote it, as do Points Possible and the test student.
    assert by_id == {"": "25.00", "1001": "25", "1002": "21.5", "1003": "20.00", "1004": "25", "1999": ""}
    gradebook = json.loads((tmp_path / "graded" / "gradebook.json").read_text(encoding="utf-8"))
    assert [(e["id"], e["max_score"]) for e in gradebook["exercises"]] == [("sum_squares_error", 5.0),
                                                                          ("cross_entropy_error", 20.0)]
    overview = (tmp_path / "graded" / "index.html").read_text(encoding="utf-8")
    assert "late (LATE mark, no time)" in overview and "override: sum_squares_error" in overview
    with zipfile.ZipFile(tmp_path / "feedback.zip") as archive:
        assert sorted(archive.namelist()) == sorted(name.removesuffix(".py") + ".html" for name in DOWNLOAD)
