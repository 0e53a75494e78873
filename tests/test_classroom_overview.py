"""The class outputs: index.html in headless Chromium, the gradebook's encoding, escaping, and the class hook."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import DECLARED, ROOT, SUBMISSIONS
from test_classroom import CLASS, PINNED, grade_class, read_gradebook
from test_reporters import _chromium, _png_is_not_blank

ARTIFACTS = ROOT / "test-artifacts"
SIMILAR = ROOT / "tests" / "fixtures" / "classes" / "similar"
SMALL = (SUBMISSIONS / "mistake_sse_missing_half.py").read_text(encoding="utf-8")
HOSTILE_NAME = "<img src=x onerror=alert(1)>"

pytestmark = pytest.mark.usefixtures("class_isolation")  # every test here grades a class


@pytest.fixture(scope="module")
def overview(tmp_path_factory):
    """The fixture class graded once more, for its overview page (kept apart from the pinned run)."""
    base = tmp_path_factory.mktemp("overview")
    subs, out = base / "submissions", base / "graded"
    shutil.copytree(CLASS, subs)
    for student in SIMILAR.glob("*.py"):  # a student's own solutions and a disguised copy of them
        shutil.copy(student, subs / student.name)
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
    assert names == ["grader.classroom.gradebook", "grader.classroom.similarity", "grader.classroom.overview"]


def test_a_class_plugin_hears_once_when_grading_starts_and_a_failing_one_costs_only_itself(tmp_path):
    heard = tmp_path / "heard.txt"
    plugin = tmp_path / "prepares.py"
    plugin.write_text(
        "from pathlib import Path\nfrom grader import hookimpl\n\n"
        "@hookimpl\n"
        "def grader_class_grading_started(outdir):\n"
        f"    with open({str(heard)!r}, 'a') as out:\n"
        "        out.write(Path(outdir).name + '\\n')\n", encoding="utf-8")
    broken = tmp_path / "broken_preparation.py"
    broken.write_text("from grader import hookimpl\n\n@hookimpl\ndef grader_class_grading_started():\n"
                      "    raise RuntimeError('fonts missing')\n", encoding="utf-8")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "kim.py").write_text(SMALL, encoding="utf-8")
    options = ("--only", "sum_squares_error", "--plugin", str(plugin), "--plugin", str(broken))
    proc = grade_class(subs, tmp_path / "out", *options)
    assert proc.returncode == 0, proc.stderr
    assert heard.read_text() == "out\n"
    assert "fonts missing" in proc.stderr and "Traceback" not in proc.stderr
    assert "kim" in (tmp_path / "out" / "gradebook.csv").read_text(encoding="utf-8-sig")
    assert (tmp_path / "out" / "index.html").is_file()
    # Everyone up to date: nobody is graded, so nothing is prepared.
    again = grade_class(subs, tmp_path / "out", *options)
    assert again.returncode == 0 and "0 to grade" in again.stdout, again.stdout + again.stderr
    assert heard.read_text() == "out\n"
    # The overview's own preparation (its plots' imports) is registered through the same hook.
    from grader.plugins import make_manager
    hook = make_manager(entry_points=False).hook.grader_class_grading_started
    assert [impl.plugin_name for impl in hook.get_hookimpls()] == ["grader.classroom.overview"]


def test_the_student_table_marks_an_exercise_typed_from_the_books_listing(overview):
    html = (overview / "index.html").read_text(encoding="utf-8")
    row = re.search(r'<tr id="student-kim_minsu">.*?</tr>', html, re.S).group(0)
    # kim_minsu typed the book's TwoLayerNet (its fingerprint is the book's): credited, and marked.
    assert row.count('class="listing"') >= 1 and "100 / 100" in row
    assert "typed the book" not in re.search(r'<h2 id="attention">.*?</ul>', html, re.S).group(0)


def test_the_overview_shows_the_similar_pair_side_by_side_with_the_wrong_answers_they_share(overview):
    html = (overview / "index.html").read_text(encoding="utf-8")
    section = re.search(r'<h2 id="review">.*?<h2 id="students">', html, re.S).group(0)
    pairs = re.findall(r'<div class="pair" id="pair-\d+">\s*<p class="pairhead"><b>(.*?)</b> and <b>(.*?)</b>', section)
    assert pairs == [("ito_ken", "mori_copy")]
    sides = re.findall(r'<div class="side">.*?(?=<div class="side">|<table class="answers">)', section, re.S)
    assert len(sides) == 2 and all(side.count('class="hit"') >= 20 for side in sides)
    assert "numerical_gradient (line 28)" in sides[0] and "numerical_gradient (line 16)" in sides[1]
    # Their numerical_diff divides by 2.0002 h: the same wrong digits on every case, the random ones too.
    answers = re.search(r'<table class="answers">.*?</table>', section, re.S).group(0)
    assert answers.count("<tr>") == 8 and "5.999400059997781" in answers
    # Copies of one fixture file (the correct.py family) share what most of the class shares: not a pair.
    rows = list(csv.DictReader(io.StringIO((overview / "similarity.csv").read_text(encoding="utf-8-sig"))))
    assert (rows[0]["student_a"], rows[0]["student_b"], rows[0]["same_wrong_outputs"]) == ("ito_ken", "mori_copy", "7")
    assert not any(r["evidence"].startswith(("similar code", "same wrong")) for r in rows[1:])


def test_what_a_similar_pair_shows_from_submissions_is_escaped():
    from jinja2 import Environment, PackageLoader

    from grader.classroom.overview_similar import Line, PairView, Side, SimilarSection, Snippet
    from grader.classroom.similarity_behaviour import WrongAnswer

    hostile = "</pre><script>alert(1)</script>"
    side = Side(HOSTILE_NAME, "x", (Snippet(hostile, (Line(1, hostile, True), Line(None, "…"))),))
    section = SimilarSection((PairView(side, side, 0.9, 3, (WrongAnswer(hostile, hostile, hostile),)),), 1, 1)
    env = Environment(loader=PackageLoader("grader.classroom", "templates"), autoescape=True)
    html = env.get_template("overview_similar.html.j2").render(similar=section, reports="reports")
    assert "<script>" not in html and HOSTILE_NAME not in html
    assert "&lt;/pre&gt;&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_each_mistake_is_described_in_general_terms_in_the_overviews_language(overview):
    from grader.classroom.overview_terms import general_message

    html = (overview / "index.html").read_text(encoding="utf-8")
    row = re.search(r'<tr id="diagnosis-depends-on-failing">.*?</tr>', html, re.S).group(0)
    # Not "two_layer_net calls your numerical_gradient (line 12)": one student's functions for all.
    assert "calls your" not in row and "own version of another exercise" in row
    korean = "코드에서 사용하는 `softmax`는 실행되는 곳에서 정의되지도 import되지도 않았습니다: ..."
    assert general_message("undefined-name", korean, "ko") == \
        "The code uses a name that is neither defined nor imported where it runs."
    assert general_message("undefined-name", korean, "ko", lang="ja").startswith("コードが")
    # A mistake no rule knows keeps its student's words (nothing better to say).
    assert general_message("a-plugins-mistake", "Their words.", "en") == "Their words."


@pytest.mark.skipif(_chromium() is None and "chromium" not in DECLARED,
                    reason="Debian's chromium is not installed (.ci/run installs it)")
def test_the_students_table_fits_a_1280_pixel_window_in_chromium(overview, tmp_path):
    html = (overview / "index.html").read_text(encoding="utf-8")
    # The page has no script of its own: this copy measures itself where Chromium laid it out.
    measure = ("<script>const t = document.getElementById('student-table').getBoundingClientRect();"
               "document.body.insertAdjacentHTML('beforeend', '<pre id=\"measure\">' + JSON.stringify("
               "{right: Math.ceil(t.right), page: document.documentElement.scrollWidth, window: innerWidth})"
               " + '</pre>');</script>")
    measured = overview / "index-measured.html"
    measured.write_text(html.replace("</body>", measure + "</body>"), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
             "--window-size=1280,2000"]
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run([_chromium(), *flags, f"--user-data-dir={profile}", "--dump-dom", measured.as_uri()],
                             capture_output=True, text=True, timeout=120).stdout
    sizes = json.loads(re.findall(r'<pre id="measure">(\{.*?\})</pre>', dom)[-1])  # not the script's own text
    assert sizes["window"] == 1280 and sizes["right"] <= 1280 and sizes["page"] <= 1280, sizes
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "class-overview-1280.png"
    shot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([_chromium(), *flags[:-1], "--window-size=1280,4400", f"--user-data-dir={profile}",
                        f"--screenshot={shot}", (overview / "index.html").as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and _png_is_not_blank(shot)


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="fontconfig's fc-list is not installed")
def test_every_status_mark_of_the_students_table_has_a_font_chromium_can_draw_it_with():
    from grader.classroom import overview as module

    template = (Path(module.__file__).parent / "templates" / "overview.html.j2").read_text(encoding="utf-8")
    marks = re.search(r"\{'passed': .*?\}", template).group(0)
    glyphs = set(re.findall(r": '(.)'", marks)) | {"?"}
    assert len(glyphs) >= 6
    for glyph in sorted(glyphs):
        fonts = subprocess.run(["fc-list", f":charset={ord(glyph):x}", "family"], capture_output=True,
                               text=True).stdout
        assert fonts.strip(), f"no installed font has {glyph!r} (U+{ord(glyph):04X}): it would show as a box"
