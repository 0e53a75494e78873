"""Notebooks and the book's layout: what students really hand in, starting with the five seeds."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import ROOT, grade_path, run_grade, statuses

SEEDS = ROOT / "tests" / "fixtures" / "seeds"

# The verdict a careful teacher gives each seed notebook (see tests/fixtures/seeds/README.md).
SEED_VERDICTS = {
    "seed_000.ipynb": {"sum_squares_error": "passed", "cross_entropy_error": "passed", "numerical_diff": "missing",
                       # a 1-D-only numerical_gradient, later shadowed by the book's import
                       "numerical_gradient": "partial", "gradient_descent": "passed", "simple_net": "passed",
                       "two_layer_net": "passed"},
    "seed_001.ipynb": {"sum_squares_error": "missing", "cross_entropy_error": "missing", "numerical_diff": "missing",
                       "numerical_gradient": "missing", "gradient_descent": "passed", "simple_net": "passed",
                       # twolayerNet calls sigmoid, which the post never imports
                       "two_layer_net": "partial"},
    "seed_002.ipynb": {"sum_squares_error": "passed", "cross_entropy_error": "passed", "numerical_diff": "passed",
                       "numerical_gradient": "passed", "gradient_descent": "passed", "simple_net": "passed",
                       "two_layer_net": "missing"},
    "seed_003.ipynb": {"sum_squares_error": "missing", "cross_entropy_error": "missing", "numerical_diff": "passed",
                       "numerical_gradient": "partial", "gradient_descent": "passed", "simple_net": "passed",
                       "two_layer_net": "passed"},
    "seed_004.ipynb": {"sum_squares_error": "missing", "cross_entropy_error": "passed", "numerical_diff": "missing",
                       "numerical_gradient": "missing", "gradient_descent": "passed", "simple_net": "passed",
                       "two_layer_net": "passed"},
}


@pytest.fixture(scope="module")
def seed_reports():
    return {name: grade_path(SEEDS / name) for name in SEED_VERDICTS}


@pytest.mark.parametrize("name", sorted(SEED_VERDICTS))
def test_each_seed_notebook_gets_the_verdict_a_careful_teacher_gives(seed_reports, name):
    assert statuses(seed_reports[name]) == SEED_VERDICTS[name]


def _exercise(report, exercise_id):
    return next(e for e in report.exercises if e.id == exercise_id)


def test_every_version_of_a_redefined_function_is_graded_and_named(seed_reports):
    cee = _exercise(seed_reports["seed_000.ipynb"], "cross_entropy_error")
    assert "version 2 of 3, In [10]" in cee.graded_name and "version 3 of 3, In [11]" in cee.graded_name
    label_cases = [c for c in cee.checks if "integer labels" in c.name]
    assert label_cases and all("version 3 of 3" in c.graded_by for c in label_cases)
    batch_cases = [c for c in cee.checks if "batch of 5 with one-hot" in c.name]
    assert batch_cases and all("version 2 of 3" in c.graded_by for c in batch_cases)


def test_a_one_dimensional_numerical_gradient_fails_only_on_two_dimensional_inputs(seed_reports):
    gradient = _exercise(seed_reports["seed_003.ipynb"], "numerical_gradient")
    failed = [c for c in gradient.checks if not c.passed and not c.skipped]
    assert failed and all("(2, 3)" in c.name for c in failed)
    assert "In [9]" in gradient.graded_name  # the student's own, not the later import


def test_a_name_the_notebook_only_imports_is_missing_and_says_where_it_came_from(seed_reports):
    cee = _exercise(seed_reports["seed_001.ipynb"], "cross_entropy_error")
    assert cee.status == "missing" and "`functions` (an import)" in cee.message
    sse = _exercise(seed_reports["seed_003.ipynb"], "sum_squares_error")
    assert "common.functions" in sse.message


def test_an_undefined_helper_inside_a_class_is_reported_with_its_line(seed_reports):
    net = _exercise(seed_reports["seed_001.ipynb"], "two_layer_net")
    predict = next(c for c in net.checks if c.name.startswith("predict"))
    assert "NameError: name 'sigmoid' is not defined" in predict.message
    assert "`z1 = sigmoid(a1)`" in predict.message
    assert any(c.passed for c in net.checks if c.name.startswith("TwoLayerNet(784"))


def test_separate_one_hot_and_label_functions_share_the_credit(seed_reports):
    cee = _exercise(seed_reports["seed_004.ipynb"], "cross_entropy_error")
    assert cee.graded_name.startswith("CEE (") and "CEE2 (" in cee.graded_name


def test_training_loops_are_not_run_and_the_report_says_so_in_one_line(seed_reports):
    statements = seed_reports["seed_000.ipynb"].statements
    skipped = [s for s in statements if s.status == "skipped-training"]
    # numerical_gradient demos (In [16]...), net.numerical_gradient on a 784x100 net (In [29]) and the
    # training loops (In [30], In [31]):
    # one line for all of them, at the first, with their count.
    assert len(skipped) == 1 and skipped[0].place.startswith("In [16]")
    count = int(re.search(r"\((\d+) statements", skipped[0].message).group(1))
    assert count >= 3


def test_a_missing_plotting_library_costs_only_the_cells_that_use_it(write_submission):
    nb = _notebook(["import not_a_plotting_library as plt\nimport numpy as np",
                    "def sum_squares_error(y, t):\n    return 0.5 * np.sum((y - t)**2)",
                    "plt.plot([1, 2, 3])\nplt.show()"])
    report = grade_path(write_submission(nb, "plots.ipynb"), only=("sum_squares_error",))
    assert statuses(report) == {"sum_squares_error": "passed"}
    # One line: the failed import, with the two statements that use `plt` counted in it.
    assert [(s.place, s.status) for s in report.statements] == [("In [1], line 1", "error")]
    assert "ModuleNotFoundError" in report.statements[0].message
    assert "2 later statements that use `plt` did not run" in report.statements[0].message


def _notebook(cells: list[str], markdown_first: bool = True) -> str:
    items = [{"cell_type": "markdown", "id": "m0", "metadata": {}, "source": "# Chapter 4"}] if markdown_first else []
    for i, source in enumerate(cells):
        items.append({"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": i + 1,
                      "outputs": [], "source": source})
    return json.dumps({"cells": items, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_ipython_magics_and_shell_lines_do_not_break_grading(write_submission):
    nb = _notebook(["%matplotlib inline\n!pip install numpy\nimport numpy as np\nnp.sum?",
                    "%%time\ndef sum_squares_error(y, t):\n    return 0.5 * np.sum((y - t)**2)",
                    "%%bash\necho not python",
                    "%timeit -n 3 sum_squares_error(np.zeros(3), np.ones(3))"])
    report = grade_path(write_submission(nb, "magic.ipynb"), only=("sum_squares_error",))
    assert statuses(report) == {"sum_squares_error": "passed"}
    assert report.exercises[0].graded_name == "sum_squares_error (In [2], line 2)"
    assert [(s.place, s.status) for s in report.statements] == [("In [3]", "skipped")]


def test_writefile_cells_become_modules_the_notebook_can_import(write_submission):
    nb = _notebook(["%%writefile losses.py\nimport numpy as np\n\ndef helper(y, t):\n    return 0.5 * np.sum((y - t)**2)\n",
                    "import numpy as np\nfrom losses import helper\n\ndef sum_squares_error(y, t):\n    return helper(y, t)"])
    report = grade_path(write_submission(nb, "writes.ipynb"), only=("sum_squares_error",))
    assert statuses(report) == {"sum_squares_error": "passed"}


@pytest.mark.parametrize("content, fragment", [
    ("{ this is not json", "not JSON"),
    ("", "not JSON"),
    ('{"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# only prose"}], "metadata": {}, '
     '"nbformat": 4, "nbformat_minor": 5}', "no code cells"),
    ('{"hello": "world"}', "not a valid Jupyter notebook"),
    # JSON whose cells are not a list: said as the file's fault, never in Python's words
    ('{"cells": 5}', "is JSON but not laid out as a Jupyter notebook"),
    ('{"nbformat": 4, "cells": 5}', "is JSON but not laid out as a Jupyter notebook"),
    ("[1, 2]", "is JSON but not laid out as a Jupyter notebook"),
])
def test_a_broken_notebook_is_a_clear_error(write_submission, content, fragment):
    result = run_grade(str(write_submission(content, "broken.ipynb")))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr, result.stderr
    assert "object" not in result.stderr and "iterable" not in result.stderr


def test_a_folder_with_no_python_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    result = run_grade(str(tmp_path))
    assert result.returncode == 2 and "no Python files" in result.stderr and "Traceback" not in result.stderr
    assert "try `grade" not in result.stderr


def test_the_books_layout_handed_in_from_one_level_up_grades_the_chapter_folder_in_it(tmp_path):
    # A folder's subfolders are part of it (issue 19): ch04/ is graded, each file named by its path,
    # and common/ (helpers) runs only as what ch04's files import.
    root = tmp_path / "my homework"
    root.mkdir()
    _book_layout(root)  # ch04/ beside common/ and dataset/
    report = grade_path(root, only=("sum_squares_error", "two_layer_net"))
    assert statuses(report) == {"sum_squares_error": "passed", "two_layer_net": "passed"}
    assert report.exercises[1].graded_name.startswith("TwoLayerNet (ch04/two_layer_net.py, line")


def test_a_folder_with_only_helpers_names_the_folder_to_grade(tmp_path):
    root = tmp_path / "my homework"
    (root / "common").mkdir(parents=True)
    (root / "common" / "functions.py").write_text("def softmax(x):\n    return x\n", encoding="utf-8")
    result = run_grade(str(root))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"try `grade '{root / 'common'}'`" in result.stderr, result.stderr  # quoted for the shell: a space


def _book_layout(root: Path) -> Path:
    """The book's repository layout: ch04/ beside common/ (holding only functions.py)."""
    (root / "common").mkdir()
    (root / "common" / "__init__.py").write_text("")
    (root / "common" / "functions.py").write_text(
        "import numpy as np\nMARKER = 'own common'\n"
        "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n"
        "def sigmoid_grad(x):\n    return (1.0 - sigmoid(x)) * sigmoid(x)\n"
        "def softmax(x):\n    x = x - np.max(x, axis=-1, keepdims=True)\n"
        "    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)\n"
        "def cross_entropy_error(y, t):\n    if y.ndim == 1:\n        t = t.reshape(1, t.size); y = y.reshape(1, y.size)\n"
        "    if t.size == y.size:\n        t = t.argmax(axis=1)\n"
        "    return -np.sum(np.log(y[np.arange(y.shape[0]), t] + 1e-7)) / y.shape[0]\n")
    ch04 = root / "ch04"
    ch04.mkdir()
    net_source = (ROOT / "tests" / "fixtures" / "submissions" / "correct.py").read_text(encoding="utf-8")
    net_source = net_source[net_source.index("class TwoLayerNet"):]
    (ch04 / "two_layer_net.py").write_text(
        "import sys, os\nsys.path.append(os.pardir)\nimport numpy as np\n"
        "from common.functions import *\nfrom common.gradient import numerical_gradient\n\n" + net_source,
        encoding="utf-8")
    (ch04 / "train_neuralnet.py").write_text(
        "import sys, os\nsys.path.append(os.pardir)\nimport numpy as np\n"
        "from dataset.mnist import load_mnist\nfrom two_layer_net import TwoLayerNet\n"
        "from common.functions import MARKER\n"
        "(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)\n"
        "network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)\n"
        "for i in range(10000):\n    grad = network.numerical_gradient(x_train[:100], t_train[:100])\n"
        "def sum_squares_error(y, t):\n    return 0.5 * np.sum((y - t)**2) if MARKER == 'own common' else 0.0\n")
    return ch04


def test_a_folder_in_the_books_layout_grades_like_a_single_file(tmp_path):
    report = grade_path(_book_layout(tmp_path), only=("sum_squares_error", "two_layer_net"))
    # The student's own common/ wins (MARKER), common.gradient comes from the book's helpers,
    # and TwoLayerNet is credited to two_layer_net.py, not to the import in train_neuralnet.py.
    assert statuses(report) == {"sum_squares_error": "passed", "two_layer_net": "passed"}
    assert report.exercises[1].graded_name.startswith("TwoLayerNet (two_layer_net.py, line")
    assert [s.status for s in report.statements] == ["skipped-training"]


def test_show_calls_of_display_libraries_do_nothing(write_submission, tmp_path):
    # Stand-ins for PIL and matplotlib whose show() would block or start a viewer.
    for package, module, body in [("PIL", "Image", "class Image:\n    def show(self):\n"
                                   "        import subprocess\n        subprocess.run(['xdg-open', 'x.png'])\n"),
                                  ("matplotlib", "pyplot", "def show():\n    raise RuntimeError('a window opened')\n")]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / f"{module}.py").write_text(body)
    nb = _notebook(["from PIL import Image\nimport matplotlib.pyplot as plt\nimport numpy as np",
                    "Image.Image().show()\nplt.show()",
                    "def sum_squares_error(y, t):\n    return 0.5 * np.sum((y - t)**2)"])
    report = grade_path(write_submission(nb, "show.ipynb"), only=("sum_squares_error",))
    assert statuses(report) == {"sum_squares_error": "passed"}
    assert report.statements == ()


def test_load_mnist_works_offline_with_the_books_shapes_and_dtypes(write_submission):
    source = ("import numpy as np\nfrom dataset.mnist import load_mnist\n"
              "def describe(normalize, flatten, one_hot):\n"
              "    (x, t), (xt, tt) = load_mnist(normalize=normalize, flatten=flatten, one_hot_label=one_hot)\n"
              "    return [list(x.shape), str(x.dtype), list(t.shape), str(t.dtype), list(xt.shape), float(x.max()),\n"
              "            sorted(set(np.asarray(t if t.ndim == 1 else t.argmax(axis=1)).tolist()))]\n")
    from grader.worker.client import WorkerClient
    with WorkerClient() as worker:
        worker.load([{"id": "0", "source": source}], "m.py")
        target = {"name": "describe", "version": 0}
        normalized = worker.call(target, (True, True, True)).value
        raw = worker.call(target, (False, False, False)).value
    assert normalized[:5] == [[4000, 784], "float32", [4000, 10], "float64", [1000, 784]]
    assert normalized[5] == 1.0 and normalized[6] == list(range(10))
    assert raw[:4] == [[4000, 1, 28, 28], "uint8", [4000], "uint8"] and raw[5] == 255.0


def test_load_mnist_prefers_the_full_data_set_found_beside_the_submission(tmp_path, write_submission):
    import gzip
    import numpy as np
    data = tmp_path / "dataset"
    data.mkdir()
    images = np.arange(3 * 784, dtype=np.uint8).reshape(3, 784)
    for name, header, payload in [("train-images-idx3-ubyte", 16, images), ("t10k-images-idx3-ubyte", 16, images[:2]),
                                  ("train-labels-idx1-ubyte", 8, np.array([1, 2, 3], np.uint8)),
                                  ("t10k-labels-idx1-ubyte", 8, np.array([4, 5], np.uint8))]:
        with gzip.open(data / f"{name}.gz", "wb") as f:
            f.write(bytes(header) + payload.tobytes())
    source = ("from dataset.mnist import load_mnist\n"
              "def shapes():\n    (x, t), (xt, tt) = load_mnist(normalize=False)\n"
              "    return [list(x.shape), t.tolist(), list(xt.shape), tt.tolist()]\n")
    from grader.worker.client import WorkerClient
    with WorkerClient() as worker:
        worker.load([{"id": "0", "source": source}], "m.py", [str(tmp_path)])
        assert worker.call({"name": "shapes", "version": 0}).value == [[3, 784], [1, 2, 3], [2, 784], [4, 5]]
