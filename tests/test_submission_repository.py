"""Finding the student's repository root and what of it the worker gets (grader/submission/repository.py),
and reading the path edits learners write (grader/submission/path_edits.py)."""
from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from grader.loaders.base import CodeCell, Submission
from grader.submission.path_edits import path_edits
from grader.submission.repository import MAX_FILES, find_root, stage


def edits(source: str, file: str = "/r/ch04/x.py", cwd: str = "/r/ch04") -> list[tuple[str, str]]:
    return [(e.kind, e.folder) for e in path_edits(ast.parse(source), file, cwd)]


@pytest.mark.parametrize("source, folder", [
    ("import sys, os\nsys.path.append(os.pardir)", "/r"),
    ("import sys\nsys.path.append('..')", "/r"),
    ("import sys\nsys.path.insert(0, '../chapter3')", "/r/chapter3"),
    ("import sys, os\nsys.path.append(os.path.join(os.path.dirname(__file__), '..'))", "/r"),
    ("import sys, os\nsys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))", "/r"),
    ("import sys\nfrom pathlib import Path\nsys.path.append(str(Path(__file__).resolve().parent.parent))", "/r"),
    ("import sys\nfrom pathlib import Path\nsys.path.append(str(Path(__file__).resolve().parents[1] / 'common'))",
     "/r/common"),
    ("import sys, os\ncurrent = os.path.dirname(os.path.abspath(__file__))\nparent = os.path.dirname(current)\n"
     "sys.path.append(parent)", "/r"),
    ("import sys, os\ntry:\n    sys.path.append(os.pardir)\nexcept Exception:\n    pass", "/r"),
    ("import sys, os\nsys.path.append(os.path.join(os.getcwd(), '..', 'chapter3'))", "/r/chapter3"),
    ("import sys\nsys.path.extend(['..', '../lib'])", "/r"),
    ("import sys\nsys.path += ['../lib']", "/r/lib"),
])
def test_the_path_edits_learners_write_are_read_as_python_would_run_them(source, folder):
    assert ("path", folder) in edits(source)


def test_a_chdir_moves_where_later_relative_entries_are_read_from():
    found = edits("import os, sys\nos.chdir('..')\nsys.path.append('chapter3')")
    assert found == [("chdir", "/r"), ("path", "/r/chapter3")]


def test_an_expression_the_reader_does_not_know_gives_nothing():
    assert edits("import sys\nsys.path.append(input())") == []
    assert edits("import sys\nsys.path.append(f'{x}/lib')") == []


def _submission(folder: Path, source: str, name: str = "study.py") -> Submission:
    path = folder / name
    path.write_text(source, encoding="utf-8")
    return Submission(path, (CodeCell("0", source, ""),))


def test_the_root_is_the_folder_holding_git(tmp_path):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    folder = tmp_path / "repo" / "part1" / "ch04"
    folder.mkdir(parents=True)
    assert find_root(folder, []) == ((tmp_path / "repo").resolve(), "git")


def test_without_git_the_root_is_the_folder_above_or_as_high_as_the_path_edits_reach(tmp_path):
    folder = tmp_path / "a" / "b" / "ch04"
    folder.mkdir(parents=True)
    assert find_root(folder, []) == ((tmp_path / "a" / "b").resolve(), "parent")
    assert find_root(folder, [str(tmp_path / "a" / "lib")]) == ((tmp_path / "a").resolve(), "path-edits")
    # Past two levels above the submission's folder a path edit reaches nothing: /etc is not a root.
    assert find_root(folder, ["/etc"])[0] == (tmp_path / "a" / "b").resolve()


def test_nothing_above_the_ceiling_is_ever_a_root(tmp_path):
    (tmp_path / ".git").mkdir()
    student = tmp_path / "class" / "kim"
    student.mkdir(parents=True)
    root, _how = find_root(student, [str(tmp_path / "class")], ceiling=student)
    assert root == student.resolve()


def test_a_classmates_file_is_never_staged_in_a_class_run(tmp_path):
    classroom = tmp_path / "class"
    (classroom / "lee").mkdir(parents=True)
    (classroom / "lee" / "answers.py").write_text("def softmax(x):\n    return x\n", encoding="utf-8")
    kim = classroom / "kim"
    kim.mkdir()
    submission = _submission(kim, "import sys\nsys.path.append('../lee')\nfrom answers import softmax\n")
    staged = stage(submission, ceiling=kim)
    assert not any("answers" in name for name in staged.files)
    assert [(u.module, u.why) for u in staged.unreachable] == [("answers", "outside")]


def test_an_answer_key_folder_is_never_staged(tmp_path):
    (tmp_path / "key").mkdir()
    (tmp_path / "key" / "reference.py").write_text("ANSWER = 1\n", encoding="utf-8")
    folder = tmp_path / "ch04"
    folder.mkdir()
    submission = _submission(folder, "import sys\nsys.path.append('../key')\nimport reference\n")
    staged = stage(submission, protect=(str(tmp_path / "key"),))
    assert "key/reference.py" not in staged.files
    assert [u.module for u in staged.unreachable] == ["reference"]


def test_only_what_the_code_imports_is_staged_at_the_same_relative_place(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "chapter3").mkdir()
    (tmp_path / "chapter3" / "functions.py").write_text("from .util import helper\n", encoding="utf-8")
    (tmp_path / "chapter3" / "util.py").write_text("def helper():\n    return 1\n", encoding="utf-8")
    (tmp_path / "chapter3" / "unused.py").write_text("X = 1\n", encoding="utf-8")
    (tmp_path / "chapter7").mkdir()
    (tmp_path / "chapter7" / "big.py").write_text("Y = 2\n", encoding="utf-8")
    folder = tmp_path / "chapter4"
    folder.mkdir()
    submission = _submission(folder, "import sys, os\nsys.path.append(os.pardir)\nfrom chapter3.functions import helper\n")
    staged = stage(submission)
    assert staged.home == "chapter4" and staged.found_by == "git"
    assert {"chapter3/functions.py", "chapter3/util.py"} <= set(staged.files)
    assert "chapter3/unused.py" not in staged.files and "chapter7/big.py" not in staged.files


def test_past_the_file_limit_an_import_is_unreachable_not_a_crash(tmp_path, monkeypatch):
    import grader.submission.repository as repository
    monkeypatch.setattr(repository, "MAX_FILES", 1)
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "helpers.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    folder = tmp_path / "ch04"
    folder.mkdir()
    submission = _submission(folder, "import sys\nsys.path.append('../lib')\nimport helpers\n")
    submission = Submission(submission.path, submission.cells, {"study.py": b"x"})
    staged = repository.stage(submission)
    assert [(u.module, u.why, u.looked_for) for u in staged.unreachable] == [("helpers", "limits", "../lib/helpers.py")]
    assert MAX_FILES > 1


def test_an_import_cycle_and_a_self_import_end(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.py").write_text("import b\n", encoding="utf-8")
    (tmp_path / "lib" / "b.py").write_text("import a\nimport b\n", encoding="utf-8")
    folder = tmp_path / "ch04"
    folder.mkdir()
    staged = stage(_submission(folder, "import sys\nsys.path.append('../lib')\nimport a\n"))
    assert {"lib/a.py", "lib/b.py"} <= set(staged.files)


def test_a_symlink_out_of_the_repository_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("TOKEN = 'x'\n", encoding="utf-8")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "ch04").mkdir()
    os.symlink(outside / "secret.py", repo / "ch04" / "secret.py")
    staged = stage(_submission(repo / "ch04", "import secret\n"))
    assert not any("secret" in name for name in staged.files)
    assert [(u.module, u.why) for u in staged.unreachable] == [("secret", "outside")]
