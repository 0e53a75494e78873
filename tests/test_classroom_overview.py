"""The class outputs: index.html in headless Chromium, the gradebook's encoding, escaping, and the class hook."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import DECLARED, ROOT, SUBMISSIONS
from test_classroom import CLASS, PINNED, grade_class, read_gradebook
from test_reporters import _chromium, _png_is_not_blank

ARTIFACTS = ROOT / "test-artifacts"
SMALL = (SUBMISSIONS / "mistake_sse_missing_half.py").read_text(encoding="utf-8")
HOSTILE_NAME = "<img src=x onerror=alert(1)>"

pytestmark = pytest.mark.usefixtures("class_isolation")  # every test here grades a class


@pytest.fixture(scope="module")
def overview(tmp_path_factory):
    """The fixture class graded once more, for its overview page (kept apart from the pinned run)."""
    base = tmp_path_factory.mktemp("overview")
    subs, out = base / "submissions", base / "graded"
    shutil.copytree(CLASS, subs)
    proc = grade_class(subs, out)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.skipif(_chromium() is None and "chromium" not in DECLARED,
                    reason="Debian's chromium is not installed (.ci/run installs it)")
def test_the_class_overview_renders_in_headless_chromium_with_its_plots(overview):
    page = overview / "index.html"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "class-overview.png"
    shot.unlink(missing_ok=True)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
    chromium = _chromium()
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run([chromium, *flags, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                             capture_output=True, text=True, timeout=120).stdout
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, *flags, f"--user-data-dir={profile}", "--window-size=1200,1800",
                        f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    shutil.copy(page, ARTIFACTS / "class-overview.html")
    # Four plots, each an inline <svg> the browser parsed, with their own axis labels.
    for plot in ("scores", "exercises", "misconceptions", "times"):
        figure = re.search(rf'<figure id="plot-{plot}">(.*?)</figure>', dom, re.S)
        assert figure and "<svg" in figure.group(1), plot
    assert "gradient-1d-only" in dom and "students" in dom
    # Every student in the table, linked to their report, which exists beside the page.
    for student in PINNED:
        assert f'href="reports/{student}.html"' in dom
        assert (overview / "reports" / f"{student}.html").is_file()
    assert shot.exists() and _png_is_not_blank(shot)


def test_the_overview_is_self_contained_and_ranks_misconceptions_with_their_students(overview):
    html = (overview / "index.html").read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from the network
    assert "<script" not in html
    rows = re.findall(r'<tr id="diagnosis-([\w-]+)">.*?<td class="num">(\d+)</td>', html, re.S)
    counts = [int(n) for _d, n in rows]
    assert counts == sorted(counts, reverse=True)
    assert dict(rows)["gradient-1d-only"] == "2" and dict(rows)["depends-on-failing"] == "1"
    one_d = re.search(r'<tr id="diagnosis-gradient-1d-only">.*?</tr>', html, re.S).group(0)
    assert 'href="reports/park_seoyeon.html"' in one_d and 'href="reports/yamada_taro.html"' in one_d
    # Both are graded in their own language (Korean, Japanese); the page says the mistake in English.
    assert "It works for 1-D inputs but not for a 2-D array" in one_d, one_d
    # What needs the instructor's eye: students in error, the hard-coder, the one whose code exits.
    eye = re.search(r'<h2 id="attention">.*?</ul>', html, re.S).group(0)
    for student in ("broken_baek", "oh_sehun", "yoon_ara"):
        assert f'href="reports/{student}.html"' in eye, student
    assert "hard-coded answers" in eye and "kim_minsu" not in eye


def test_the_csv_opens_in_excel_with_cjk_names_and_escapes_what_submissions_control(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("김민수", "田中太郎", "王芳", "=HYPERLINK(evil)", HOSTILE_NAME):
        (subs / f"{name}.py").write_text(SMALL, encoding="utf-8")
    (subs / "broken.py").write_text("def f(:\n    '</pre><script>alert(1)</script>'\n", encoding="utf-8")
    proc = grade_class(subs, tmp_path / "out", "--only", "sum_squares_error", "--lang", "en", "--markdown")
    assert proc.returncode == 0, proc.stderr
    raw = (tmp_path / "out" / "gradebook.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    assert "김민수".encode() in raw and "田中太郎".encode() in raw and "王芳".encode() in raw
    rows = read_gradebook(tmp_path / "out")
    assert "'=HYPERLINK(evil)" in rows  # a formula in a name is text to Excel
    assert rows["김민수"]["score"] == "0" and rows["김민수"]["sum_squares_error_status"] == "failed"
    # --lang wins over the Korean comments; --markdown adds a third report per student.
    report = json.loads((tmp_path / "out" / "reports" / "김민수.json").read_text(encoding="utf-8"))
    assert report["lang"] == "en"
    assert (tmp_path / "out" / "reports" / "김민수.md").is_file()
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert HOSTILE_NAME not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>alert(1)" not in html
    error_page = next((tmp_path / "out" / "reports").glob("broken.html")).read_text(encoding="utf-8")
    assert "<script>" not in error_page


def test_class_outputs_are_plugins_and_a_failing_one_costs_only_itself(tmp_path):
    plugin = tmp_path / "lms_upload.py"
    plugin.write_text(
        "from grader import hookimpl\n\n"
        "@hookimpl\n"
        "def grader_class_report(class_report, outdir):\n"
        "    path = outdir / 'lms.txt'\n"
        "    path.write_text('\\n'.join(f'{s.student} {s.score:g}' for s in class_report.students))\n"
        "    return [path]\n", encoding="utf-8")
    broken = tmp_path / "broken_output.py"
    broken.write_text("from grader import hookimpl\n\n@hookimpl\ndef grader_class_report(class_report):\n"
                      "    raise RuntimeError('upload failed')\n", encoding="utf-8")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "kim.py").write_text(SMALL, encoding="utf-8")
    proc = grade_class(subs, tmp_path / "out", "--only", "sum_squares_error", "--plugin", str(plugin),
                       "--plugin", str(broken))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "lms.txt").read_text() == "kim 0"
    assert "upload failed" in proc.stderr and "Traceback" not in proc.stderr
    assert (tmp_path / "out" / "gradebook.csv").is_file() and (tmp_path / "out" / "index.html").is_file()
    # Built-in outputs are plugins too: the gradebook comes from a registered grader_class_report.
    from grader.plugins import make_manager
    names = [impl.plugin_name for impl in make_manager(entry_points=False).hook.grader_class_report.get_hookimpls()]
    assert names == ["grader.classroom.gradebook", "grader.classroom.overview"]


def test_the_student_table_marks_an_exercise_typed_from_the_books_listing(overview):
    html = (overview / "index.html").read_text(encoding="utf-8")
    row = re.search(r'<tr id="student-kim_minsu">.*?</tr>', html, re.S).group(0)
    # kim_minsu typed the book's TwoLayerNet (its fingerprint is the book's): credited, and marked.
    assert row.count('class="listing"') >= 1 and "100 / 100" in row
    assert "typed the book" not in re.search(r'<h2 id="attention">.*?</ul>', html, re.S).group(0)
