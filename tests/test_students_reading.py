"""What the student reads: plots cost nothing, the panel is short, the report does not depend on load."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT, SUBMISSIONS, grade_path, statuses

PLOTTING_NOTEBOOK_CELLS = [
    "import numpy as np\nimport matplotlib.pyplot as plt\nimport seaborn as sns\nfrom PIL import Image\n"
    "from mpl_toolkits.mplot3d import Axes3D\nimport pylab",
    "def numerical_diff(f, x):\n    h = 1e-4\n    return (f(x + h) - f(x - h)) / (2 * h)",
    "x = np.arange(0.0, 20.0, 0.1)\ny = 0.01 * x ** 2 + 0.1 * x\nplt.xlabel('x')\nplt.plot(x, y)\nplt.show()",
    "fig, ax = plt.subplots()\nax.plot(x, y)\nax.set_title('f')\nfig3d = plt.figure()\n"
    "ax3 = fig3d.add_subplot(111, projection='3d')\nsns.heatmap(np.eye(3))\n"
    "Image.fromarray(np.uint8(np.zeros((28, 28)))).show()\npylab.show()",
    # a loss curve of a training loop that grading skips: its plot must not be listed either
    "loss_list = []\nfor i in range(10000):\n    loss_list.append(numerical_gradient_of_net(i))",
    "plt.plot(np.arange(len(loss_list)), loss_list)\nplt.ylim(0, 9)\nplt.show()",
]


def _notebook(cells):
    return json.dumps({"cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": i + 1,
                                  "outputs": [], "source": s} for i, s in enumerate(cells)],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_plotting_costs_nothing_and_is_never_listed(write_submission):
    report = grade_path(write_submission(_notebook(PLOTTING_NOTEBOOK_CELLS), "plots.ipynb"), only=("numerical_diff",))
    assert statuses(report) == {"numerical_diff": "passed"}
    # Only the skipped training loop is listed: no plotting statement, whatever it depended on.
    assert [s.status for s in report.statements] == ["skipped-training"]
    assert report.statements[0].place.startswith("In [5]")


def test_plotting_libraries_are_stand_ins_even_when_installed(write_submission):
    from grader.worker.client import WorkerClient
    source = ("import matplotlib, matplotlib.pyplot as plt\n"
              "def where():\n    return [matplotlib.__dict__.get('__file__'), repr(plt.plot([1, 2]))]\n")
    with WorkerClient() as worker:
        worker.load([{"id": "0", "source": source}], "p.py")
        assert worker.call({"name": "where", "version": 0}).value == [None, "<plotting stand-in>"]


def test_a_complete_correct_submission_has_nothing_alarming_in_the_panel():
    # The filled-in template: its `if __name__ == "__main__":` block is not a problem.
    report = grade_path(SUBMISSIONS / "template_filled.py")
    assert all(e.status == "passed" for e in report.exercises)
    assert report.statements == ()


BUSY = "import time\nend = time.time() + 600\nwhile time.time() < end:\n    pass\n"
LOAD_NOTEBOOK = [
    "import numpy as np\nfrom dataset.mnist import load_mnist",
    "(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)",
    "print(x_train.shape)\nbatch_mask = np.random.choice(x_train.shape[0], 10)\nx_batch = x_train[batch_mask]",
    "def sum_squares_error(y, t):\n    return 0.5 * np.sum((y - t) ** 2)",
    "print(sum_squares_error(x_batch[0], x_batch[1]))",
    "total = 0\nfor i in range(5000000):\n    total += i * i",
    "print(total)",
]


def test_the_same_notebook_gets_the_same_report_on_a_busy_machine(write_submission):
    """The demo budget counts the worker's CPU time and not load_mnist: load does not change the report."""
    path = write_submission(_notebook(LOAD_NOTEBOOK), "busy.ipynb")
    quiet = grade_path(path, only=("sum_squares_error",)).to_dict()
    busy = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(2)]
    try:
        loaded = [grade_path(path, only=("sum_squares_error",)).to_dict() for _ in range(4)]
    finally:
        for process in busy:
            process.kill()
            process.wait()
    assert all(report == quiet for report in loaded)
    statements = quiet["statements"]
    # load_mnist ran (it is free), the long loop is stopped for time, what uses it is counted with it.
    assert [s["status"] for s in statements] == ["abandoned"]
    assert quiet["exercises"][0]["status"] == "passed"


PROGRESS_BAR = '''
import numpy as np
from tqdm import tqdm  # 진행 상황 표시
from tqdm.auto import trange


def numerical_gradient(f, x):
    h = 1e-4
    grad = np.zeros_like(x)
    for idx in range(x.size):
        tmp = x.flat[idx]
        x.flat[idx] = tmp + h
        fxh1 = f(x)
        x.flat[idx] = tmp - h
        fxh2 = f(x)
        grad.flat[idx] = (fxh1 - fxh2) / (2 * h)
        x.flat[idx] = tmp
    return grad


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x
    for i in tqdm(range(step_num), desc="descent"):
        x -= lr * numerical_gradient(f, x)
    for _ in trange(0):
        pass
    with tqdm(total=step_num) as bar:
        bar.update(step_num)
    return x
'''


def test_a_progress_bar_around_a_correct_loop_costs_nothing(write_submission):
    report = grade_path(write_submission(PROGRESS_BAR), only=("gradient_descent",))
    assert statuses(report) == {"gradient_descent": "passed"}
    assert not report.statements
