"""Each known mistake is named by its diagnosis id; a correct submission gets none."""
from __future__ import annotations

import pytest

from conftest import ROOT, SUBMISSIONS, grade_path

SEEDS = ROOT / "tests" / "fixtures" / "seeds"

# fixture -> (exercise, diagnosis id it must carry)
EXPECTED = {
    "mistake_sse_missing_half.py": ("sum_squares_error", "sse-missing-half"),
    "mistake_cee_missing_delta.py": ("cross_entropy_error", "cee-missing-delta"),
    "mistake_cee_batch_not_averaged.py": ("cross_entropy_error", "cee-batch-not-averaged"),
    "mistake_forward_difference.py": ("numerical_diff", "forward-difference"),
    "mistake_step_too_small.py": ("numerical_diff", "step-too-small"),
    "mistake_gradient_1d_only.py": ("numerical_gradient", "gradient-1d-only"),
    "mistake_input_not_restored.py": ("numerical_gradient", "input-not-restored"),
    "mistake_gradient_ascent.py": ("gradient_descent", "gradient-ascent"),
    "mistake_softmax_whole_batch.py": ("two_layer_net", "softmax-whole-batch"),
    "mistake_softmax_overflow.py": ("simple_net", "softmax-overflow"),
    "mistake_sigmoid_output.py": ("two_layer_net", "sigmoid-output"),
    "mistake_accuracy_onehot_labels.py": ("two_layer_net", "accuracy-onehot-labels"),
    "mistake_init_scale_ignored.py": ("two_layer_net", "init-scale-ignored"),
    "mistake_backprop_batch_not_averaged.py": ("two_layer_net", "backprop-batch-not-averaged"),
}


# A function's mistake that the TwoLayerNet calling it shows in its own way, with its own diagnosis.
SEEN_FROM_THE_NET = {"input-not-restored": {"net-params-not-restored"}}


def diagnoses(report) -> dict[str, list[str]]:
    return {e.id: [d.id for d in e.diagnoses] for e in report.exercises}


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_each_mistake_gets_its_diagnosis_and_no_unrelated_one(fixture):
    exercise, expected = EXPECTED[fixture]
    found = diagnoses(grade_path(SUBMISSIONS / fixture))
    assert expected in found[exercise]
    # Besides the root cause, at most a pointer to it from the exercises that call the broken code,
    # or the same mistake as seen from the network that uses the function.
    others = {d for ex, ids in found.items() if ex != exercise for d in ids}
    assert others <= {"depends-on-failing", expected} | SEEN_FROM_THE_NET.get(expected, set())


@pytest.mark.parametrize("fixture", ["correct.py", "template_filled.py"])
def test_a_correct_submission_gets_no_diagnosis(fixture):
    assert all(ids == [] for ids in diagnoses(grade_path(SUBMISSIONS / fixture)).values())


def test_a_hard_coded_submission_is_called_hard_coded():
    found = diagnoses(grade_path(SUBMISSIONS / "hard_coded.py"))
    for exercise in ("sum_squares_error", "cross_entropy_error", "numerical_diff", "numerical_gradient",
                     "gradient_descent", "simple_net"):
        assert "hard-coded" in found[exercise], exercise


def test_a_correct_but_unlucky_function_is_not_called_hard_coded():
    # A batch that is not averaged is right on the book's single samples and wrong on batches,
    # but its answers depend on the input: that is a bug, not a hard-coded answer.
    found = diagnoses(grade_path(SUBMISSIONS / "mistake_cee_batch_not_averaged.py", only=("cross_entropy_error",)))
    assert "hard-coded" not in found["cross_entropy_error"]


def test_a_single_sample_that_is_not_reshaped_is_diagnosed(write_submission):
    source = ("import numpy as np\n"
              "def cross_entropy_error(y, t):\n"
              "    batch_size = y.shape[0]\n"
              "    return -np.sum(t * np.log(y + 1e-7)) / batch_size\n")
    found = diagnoses(grade_path(write_submission(source), only=("cross_entropy_error",)))
    assert "single-sample-not-reshaped" in found["cross_entropy_error"]


def test_a_function_that_forgets_to_return_is_diagnosed(write_submission):
    source = "import numpy as np\ndef sum_squares_error(y, t):\n    e = 0.5 * np.sum((y - t)**2)\n"
    report = grade_path(write_submission(source), only=("sum_squares_error",))
    assert diagnoses(report)["sum_squares_error"] == ["missing-return"]


def test_a_helper_that_was_never_imported_is_named(tmp_path):
    report = grade_path(SEEDS / "seed_001.ipynb", only=("two_layer_net",))
    net = report.exercises[0]
    assert [d.id for d in net.diagnoses] == ["undefined-name"]
    assert "`sigmoid`" in net.diagnoses[0].message


CALLS_ITS_FAILING_HELPERS = """
import numpy as np
from common.functions import sigmoid, softmax

def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    return -np.sum(t * np.log(y + 1e-7))  # not divided by the batch size

def numerical_gradient(f, x):
    h = 1e-4
    grad = np.zeros_like(x)
    for idx in range(x.size):  # 1-D only
        tmp = x[idx]
        x[idx] = tmp + h
        fxh1 = f(x)
        x[idx] = tmp - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp
    return grad

class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {'W1': weight_init_std * np.random.randn(input_size, hidden_size),
                       'b1': np.zeros(hidden_size),
                       'W2': weight_init_std * np.random.randn(hidden_size, output_size),
                       'b2': np.zeros(output_size)}

    def predict(self, x):
        z1 = sigmoid(np.dot(x, self.params['W1']) + self.params['b1'])
        return softmax(np.dot(z1, self.params['W2']) + self.params['b2'])

    def loss(self, x, t):
        return cross_entropy_error(self.predict(x), t)

    def accuracy(self, x, t):
        return np.sum(np.argmax(self.predict(x), axis=1) == np.argmax(t, axis=1)) / float(x.shape[0])

    def numerical_gradient(self, x, t):
        loss_W = lambda W: self.loss(x, t)
        return {key: numerical_gradient(loss_W, self.params[key]) for key in ('W1', 'b1', 'W2', 'b2')}
"""


def test_a_dependency_note_names_every_failing_dependency_the_code_calls(write_submission):
    report = grade_path(write_submission(CALLS_ITS_FAILING_HELPERS),
                        only=("cross_entropy_error", "numerical_gradient", "two_layer_net"))
    net = next(e for e in report.exercises if e.id == "two_layer_net")
    notes = [d for d in net.diagnoses if d.id == "depends-on-failing"]
    assert len(notes) == 1
    assert "cross_entropy_error" in notes[0].message and "numerical_gradient" in notes[0].message


def test_no_dependency_note_when_the_class_never_calls_the_failing_functions():
    # The hard-coded net returns constants: it calls neither cross_entropy_error nor
    # numerical_gradient, so naming them as the root cause would send the student astray.
    report = grade_path(SUBMISSIONS / "hard_coded.py", only=("cross_entropy_error", "numerical_gradient",
                                                             "two_layer_net"))
    net = next(e for e in report.exercises if e.id == "two_layer_net")
    assert net.status != "passed"
    assert not [d for d in net.diagnoses if d.id == "depends-on-failing"]


def test_an_instructor_can_register_a_diagnosis_through_the_hook(write_submission):
    from grader.diagnoses import DiagnosisRule
    from grader.hookspecs import hookimpl
    from grader.plugins import make_manager
    from grader.session import grade
    from grader.worker.client import WorkerClient

    class ClassroomRules:
        @hookimpl
        def grader_diagnoses(self):
            return [DiagnosisRule("returns-a-list", ("sum_squares_error",),
                                  "Return a NumPy number, not a Python list.",
                                  lambda e: any(isinstance(o.actual, list) for o in e.failed()))]

    pm = make_manager(entry_points=False)
    pm.register(ClassroomRules(), name="classroom")
    source = "import numpy as np\ndef sum_squares_error(y, t):\n    return [0.5 * float(np.sum((y - t)**2)), 0]\n"
    with WorkerClient() as worker:
        report = grade(write_submission(source), pm, worker, ("sum_squares_error",))
    assert [d.id for d in report.exercises[0].diagnoses] == ["returns-a-list"]
