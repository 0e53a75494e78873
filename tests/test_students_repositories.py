"""Learners' whole repositories (issue 19): the book's code is the book's, and the repository
around the chapter folder is there as the student ran it.

Each test builds a learner's repository the way they hand it in: their own fixture under
tests/fixtures/repos/, plus the files they copied from the book. The book here is
tests/fixtures/repos/fake_book/ (written for the tests), recognised through its own fingerprint
index registered with the ``grader_book_code`` hook, exactly as the real book's index is.
Each test pins the verdict and the message a careful teacher gives.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from grader.hookspecs import hookimpl

REPOS = ROOT / "tests" / "fixtures" / "repos"
BOOK = REPOS / "fake_book"


class FakeBook:
    """A plugin naming the fake book's fingerprint index, as an instructor's plugin would its handout."""

    def __init__(self, index: Path) -> None:
        self.index = index

    @hookimpl
    def grader_book_code(self):
        return [self.index]


@pytest.fixture(scope="module")
def book_index(tmp_path_factory) -> Path:
    from grader.submission.book_index import main
    out = tmp_path_factory.mktemp("book") / "fake_book.json"
    assert main(["build", "--files", str(BOOK), "--name", "example/fake-book", "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def manager(book_index):
    from grader.plugins import make_manager
    pm = make_manager(entry_points=False)
    pm.register(FakeBook(book_index), name="fake-book")
    return pm


def grade(pm, path: Path, only=(), **options):
    from grader.session import grade as grade_submission
    from grader.worker.client import Limits, WorkerClient
    with WorkerClient(Limits()) as worker:
        return grade_submission(path, pm, worker, only, **options)


def exercise(report, exercise_id):
    return next(e for e in report.exercises if e.id == exercise_id)


def copy_book(names: list[str], dest: Path, recomment: bool = True) -> None:
    """Copy the book's files as a learner does, adding comments of their own on the way (the
    fingerprint ignores comments, docstrings and blank lines)."""
    for name in names:
        source = BOOK / name
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
            continue
        text = source.read_text(encoding="utf-8")
        if recomment and name.endswith(".py"):
            text = "# 책에서 복사해 옴 (copied from the book)\n\n" + text.replace("\n\n\n", "\n\n\n# ---\n")
        target.write_text(text, encoding="utf-8")


def learner(name: str, tmp_path: Path) -> Path:
    repo = tmp_path / name
    shutil.copytree(REPOS / name, repo)
    return repo


# ---- the book's code is the book's ---------------------------------------------------------

@pytest.fixture(scope="module")
def copied_common(manager, tmp_path_factory):
    repo = learner("copied_common", tmp_path_factory.mktemp("copied"))
    copy_book(["common/functions.py", "common/gradient.py"], repo)
    return repo, grade(manager, repo / "ch04" / "my_study.py")


def test_a_copied_book_common_is_not_graded_as_the_students_work(copied_common):
    _repo, report = copied_common
    # Their own numerical_gradient handles 1-D arrays only: the book's n-D version beside it in
    # common/gradient.py must not earn the points it does not.
    gradient = exercise(report, "numerical_gradient")
    assert gradient.status == "partial"
    assert gradient.graded_name == "numerical_gradient (line 12)"
    assert [d.id for d in gradient.diagnoses] == ["gradient-1d-only"]
    # Their own SSE counts.
    assert exercise(report, "sum_squares_error").status == "passed"


def test_an_exercise_only_the_books_code_has_is_missing_with_that_reason(copied_common):
    _repo, report = copied_common
    cee = exercise(report, "cross_entropy_error")
    assert cee.status == "missing" and cee.score == 0
    assert "`cross_entropy_error` in ../common/functions.py is the book's own code" in cee.message
    assert "example/fake-book, common/functions.py" in cee.message


def test_the_report_says_in_one_line_per_file_what_is_the_books(copied_common):
    from grader.reporters.markdown import render as markdown
    from grader.reporters.terminal_text import render as terminal
    _repo, report = copied_common
    # common/gradient.py is there too, but nothing imports it: what ran is what is listed.
    assert [(b.file, b.path, b.names) for b in report.book_code] == [
        ("../common/functions.py", "common/functions.py", ())]
    line = "../common/functions.py is the book's own file: not graded as your work"
    assert line in terminal(report)
    assert line in markdown(report)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["book_rule"] == "not-credited"
    assert data["book_code"][0]["repository"] == "example/fake-book"


def test_an_assignment_that_credits_the_books_code_grades_it_and_says_so(manager, copied_common):
    repo, _report = copied_common
    report = grade(manager, repo / "ch04" / "my_study.py", only=("cross_entropy_error",), book_rule="credited")
    cee = exercise(report, "cross_entropy_error")
    assert cee.status == "passed" and cee.graded_name.startswith("cross_entropy_error (../common/functions.py")
    assert report.book_rule == "credited"
    assert report.to_dict()["book_rule"] == "credited"


def test_a_helper_file_the_student_changed_keeps_their_functions_and_not_the_books(manager, tmp_path):
    repo = learner("copied_common", tmp_path)
    copy_book(["common/gradient.py"], repo)
    # Their common/functions.py: the book's softmax, kept, and a cross-entropy of their own that
    # forgets the delta (log(0) for a zero probability).
    book = (BOOK / "common" / "functions.py").read_text(encoding="utf-8")
    start = book.index("def cross_entropy_error")
    own = ("def cross_entropy_error(y, t):\n    if y.ndim == 1:\n        y = y.reshape(1, -1)\n"
           "        t = t.reshape(1, -1)\n    return -np.sum(t * np.log(y)) / y.shape[0]\n")
    (repo / "common" / "functions.py").write_text(book[:start] + own, encoding="utf-8")
    report = grade(manager, repo / "ch04" / "my_study.py", only=("cross_entropy_error",))
    cee = exercise(report, "cross_entropy_error")
    assert cee.graded_name.startswith("cross_entropy_error (../common/functions.py")
    assert cee.status != "passed" and "cee-missing-delta" in [d.id for d in cee.diagnoses]
    functions = next(b for b in report.book_code if b.file == "../common/functions.py")
    assert "softmax" in functions.names and "cross_entropy_error" not in functions.names


def test_a_book_chapter_file_beside_the_students_notebook_is_the_books(manager, tmp_path):
    repo = learner("book_chapter_file", tmp_path)
    copy_book(["ch04/two_layer_net.py", "common"], repo)
    report = grade(manager, repo / "ch04" / "study.ipynb")
    net = exercise(report, "two_layer_net")
    assert net.status == "missing" and "`TwoLayerNet` in two_layer_net.py is the book's own code" in net.message
    assert exercise(report, "sum_squares_error").status == "passed"
    assert exercise(report, "cross_entropy_error").status == "passed"
    assert "two_layer_net.py" in [b.file for b in report.book_code]


def test_the_books_own_notebook_handed_in_as_it_is_earns_nothing_and_fails_nothing(manager, tmp_path):
    copy_book(["notebooks/ch04.ipynb"], tmp_path, recomment=False)
    report = grade(manager, tmp_path / "notebooks" / "ch04.ipynb")
    found = {e.id: e for e in report.exercises if "book's own code" in e.message}
    assert set(found) == {"numerical_diff", "numerical_gradient", "gradient_descent"}
    assert all(e.status == "missing" and not e.diagnoses for e in found.values())
    assert [b.file for b in report.book_code] == ["ch04.ipynb"]
    credited = grade(manager, tmp_path / "notebooks" / "ch04.ipynb", book_rule="credited")
    assert {e.id: e.status for e in credited.exercises if e.id in found} == dict.fromkeys(found, "passed")


def test_a_function_the_student_typed_from_the_book_listing_counts_and_is_marked(manager, tmp_path):
    repo = learner("downloading_mnist", tmp_path)
    copy_book(["dataset"], repo)
    report = grade(manager, repo / "ch04" / "train.py", only=("cross_entropy_error",))
    cee = exercise(report, "cross_entropy_error")
    # Their own file, the canonical listing (the real book's index knows it): theirs, marked.
    assert cee.status == "passed" and cee.book_listing
    assert report.to_dict()["exercises"][0]["book_listing"] is True


def test_a_copied_downloading_mnist_loader_is_answered_by_the_bundled_data(manager, tmp_path):
    repo = learner("downloading_mnist", tmp_path)
    copy_book(["dataset"], repo)
    report = grade(manager, repo / "ch04" / "train.py", only=("cross_entropy_error",))
    # No URLError, nothing about load_mnist in the "did not run" panel.
    assert not [s for s in report.statements if "load_mnist" in s.message or "URLError" in s.message
                or s.status == "error"]


# ---- the repository as the student ran it --------------------------------------------------

def test_a_sibling_chapter_import_through_sys_path_append_pardir_works(manager, tmp_path):
    repo = learner("sibling_chapter", tmp_path)
    report = grade(manager, repo / "chapter4" / "study.py", only=("cross_entropy_error", "simple_net"))
    assert {e.id: e.status for e in report.exercises} == {"cross_entropy_error": "passed", "simple_net": "passed"}
    assert not report.statements


def test_a_sibling_chapter_put_on_sys_path_by_a_relative_path_works(manager, tmp_path):
    repo = learner("sibling_chapter", tmp_path)
    report = grade(manager, repo / "chapter4" / "gradient.py", only=("numerical_diff",))
    assert exercise(report, "numerical_diff").status == "passed"
    assert not report.statements


def test_a_sibling_package_reached_through_the_files_own_folder_works(manager, tmp_path):
    repo = learner("sibling_package", tmp_path)
    report = grade(manager, repo / "chapter_4_learning" / "net.py",
                   only=("cross_entropy_error", "numerical_gradient", "two_layer_net"))
    assert {e.id: e.status for e in report.exercises} == dict.fromkeys(
        ("cross_entropy_error", "numerical_gradient", "two_layer_net"), "passed")


def test_a_folders_nested_subfolders_are_graded_and_named_by_their_path(manager, tmp_path):
    repo = learner("nested", tmp_path)
    report = grade(manager, repo / "04_learning", only=("sum_squares_error", "cross_entropy_error", "two_layer_net"))
    names = {e.id: (e.status, e.graded_name) for e in report.exercises}
    assert names["sum_squares_error"] == ("passed", "sum_squares_error (01_sse/sse.py, line 5)")
    # cee.py imports functions.py of its own folder, as `python cee.py` there would.
    assert names["cross_entropy_error"] == ("passed", "cross_entropy_error (02_loss/cee.py, line 6)")
    assert names["two_layer_net"][0] == "passed"
    assert names["two_layer_net"][1].startswith("TwoLayerNet (train_algorithm/two_layer_net.py, line")


def test_an_import_from_outside_the_repository_is_named_not_blamed_on_the_student(manager, tmp_path):
    # Their repository (it has .git) imports from a folder beside it that they did not hand in.
    mine = tmp_path / "mine"
    (mine / ".git").mkdir(parents=True)
    (mine / "ch04").mkdir()
    (tmp_path / "shared_lib").mkdir()
    (tmp_path / "shared_lib" / "helpers.py").write_text(
        "import numpy as np\n\ndef softmax(x):\n    e = np.exp(x - x.max(axis=-1, keepdims=True))\n"
        "    return e / e.sum(axis=-1, keepdims=True)\n", encoding="utf-8")
    study = (REPOS / "sibling_chapter" / "chapter4" / "study.py").read_text(encoding="utf-8")
    study = study.replace("sys.path.append(os.pardir)", "sys.path.append('../../shared_lib')").replace(
        "from chapter3.functions import softmax", "from helpers import softmax")
    (mine / "ch04" / "study.py").write_text(study, encoding="utf-8")
    report = grade(manager, mine / "ch04" / "study.py", only=("simple_net",))
    net = exercise(report, "simple_net")
    assert net.status != "passed"
    ids = [d.id for d in net.diagnoses]
    assert "undefined-name" not in ids and ids[0] == "import-not-reached"
    message = net.diagnoses[0].message
    assert "`softmax`" in message and "from helpers import softmax" in message
    assert "../../shared_lib/helpers.py" in message and "outside your repository" in message


def test_within_keeps_an_autograders_files_beside_the_submission_out_of_reach(tmp_path):
    # Gradescope's layout: the instructor's source beside the student's submission folder.
    from conftest import run_grade
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "helpers.py").write_text(
        "import numpy as np\n\ndef softmax(x):\n    e = np.exp(x - x.max(axis=-1, keepdims=True))\n"
        "    return e / e.sum(axis=-1, keepdims=True)\n", encoding="utf-8")
    (tmp_path / "submission").mkdir()
    study = (REPOS / "sibling_chapter" / "chapter4" / "study.py").read_text(encoding="utf-8")
    study = study.replace("sys.path.append(os.pardir)", "sys.path.append('../source')").replace(
        "from chapter3.functions import softmax", "from helpers import softmax")
    (tmp_path / "submission" / "chapter4.py").write_text(study, encoding="utf-8")
    free = run_grade(str(tmp_path / "submission" / "chapter4.py"), "--only", "simple_net", "-f", "json")
    assert json.loads(free.stdout)["exercises"][0]["status"] == "passed"  # without --within: their folder's parent
    kept = run_grade(str(tmp_path / "submission" / "chapter4.py"), "--only", "simple_net", "-f", "json",
                     "--within", str(tmp_path / "submission"))
    net = json.loads(kept.stdout)["exercises"][0]
    assert net["status"] != "passed" and net["diagnoses"][0]["id"] == "import-not-reached"
