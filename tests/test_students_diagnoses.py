"""Diagnoses on learners' code: each names only a cause the code has.

One fixture per mistake under tests/fixtures/students/mistakes/, each pinned with the verdict
a teacher gives, the diagnosis that must appear and the ones that must not.
"""
from __future__ import annotations

import pytest

from conftest import ROOT, SUBMISSIONS, grade_path

MISTAKES = ROOT / "tests" / "fixtures" / "students" / "mistakes"

# fixture -> (exercise, status, the diagnosis it must carry, diagnoses it must not carry)
CASES = {
    "book_gradient_2d.py": ("numerical_gradient", "partial", "gradient-row-wise", {"gradient-1d-only"}),
    "diff_precedence.py": ("numerical_diff", "failed", "diff-operator-precedence", {"forward-difference"}),
    "cee_wrong_sign.py": ("cross_entropy_error", "failed", "cee-wrong-sign", {"cee-missing-delta"}),
    "cee_onehot_indexed.py": ("cross_entropy_error", "partial", "cee-onehot-indexed-as-labels",
                              {"single-sample-not-reshaped"}),
    "descent_assigns.py": ("gradient_descent", "partial", "descent-assigns-step", {"hard-coded", "gradient-ascent"}),
    "net_gradient_copy.py": ("two_layer_net", "partial", "net-gradient-never-reaches-loss", {"hard-coded"}),
    "net_params_not_restored.py": ("two_layer_net", "partial", "net-params-not-restored", {"input-not-restored"}),
    "loss_w_typo.py": ("two_layer_net", "partial", "undefined-name", set()),
    "undefined_names.py": ("cross_entropy_error", "partial", "misspelt-attribute", {"single-sample-not-reshaped"}),
    # Label-only, found under a near name: the integer-label cases pass, the one-hot ones fail.
    "cee_labels_only_near_name.py": ("cross_entropy_error", "partial", "cee-onehot-indexed-as-labels",
                                     {"single-sample-not-reshaped", "cee-one-hot-only"}),
    # The one case it gets right is computed: y is 0 at the class, so the swapped sum is -log(delta) too.
    "cee_swapped_arguments.py": ("cross_entropy_error", "partial", "cee-arguments-swapped",
                                 {"cee-one-hot-only", "cee-wrong-sign", "cee-missing-delta"}),
    "cee_onehot_only.py": ("cross_entropy_error", "partial", "cee-one-hot-only",
                           {"cee-arguments-swapped", "cee-onehot-indexed-as-labels"}),
    "cee_label_times_t.py": ("cross_entropy_error", "failed", "cee-label-times-t",
                             {"cee-one-hot-only", "cee-onehot-indexed-as-labels", "cee-wrong-sign"}),
    "cee_sign_and_delta.py": ("cross_entropy_error", "failed", "cee-wrong-sign",
                              {"cee-arguments-swapped", "cee-label-times-t"}),
    "gradient_not_indexed.py": ("numerical_gradient", "failed", "gradient-overwritten",
                                {"gradient-1d-only", "input-not-restored"}),
    "descent_zeros.py": ("gradient_descent", "failed", "constant-result",
                         {"descent-assigns-step", "hard-coded", "gradient-ascent"}),
    "net_without_weight_init_std.py": ("two_layer_net", "partial", "init-missing-parameter", {"init-scale-ignored"}),
    "net_second_layer_gets_input.py": ("two_layer_net", "partial", "second-layer-fed-input", {"layers-not-chained"}),
    "layer_net_not_chained.py": ("two_layer_net", "partial", "layers-not-chained", {"second-layer-fed-input"}),
    "relu_layer_net.py": ("two_layer_net", "partial", "relu-net-for-chapter4",
                          {"sigmoid-output", "softmax-whole-batch"}),
}


@pytest.fixture(scope="module")
def reports():
    return {name: grade_path(MISTAKES / name, only=(CASES[name][0],)) for name in CASES}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_learners_mistake_gets_the_teachers_verdict_and_diagnosis(reports, name):
    exercise, status, diagnosis, never = CASES[name]
    result = reports[name].exercises[0]
    ids = [d.id for d in result.diagnoses]
    assert result.status == status, (result.status, ids)
    assert diagnosis in ids
    assert not set(ids) & never


def test_the_books_row_wise_gradient_is_not_called_one_dimensional_only(reports):
    gradient = reports["book_gradient_2d.py"].exercises[0]
    assert [d.id for d in gradient.diagnoses] == ["gradient-row-wise"]
    assert "each row as a separate point" in gradient.diagnoses[0].message
    # 1-D inputs are right: only the 2-D cases fail.
    failed = [c for c in gradient.checks if not c.passed and not c.skipped]
    assert failed and all("(2, 3)" in c.name for c in failed)


def test_an_undefined_name_points_to_the_module_that_has_it_or_the_close_name():
    report = grade_path(MISTAKES / "undefined_names.py", only=("two_layer_net",))
    message = next(d.message for d in report.exercises[0].diagnoses if d.id == "undefined-name")
    assert "`Affine`" in message and "from common.layers import Affine" in message
    assert "common.functions" not in message


def test_a_typo_of_a_local_name_is_called_a_typo(reports):
    message = next(d.message for d in reports["loss_w_typo.py"].exercises[0].diagnoses if d.id == "undefined-name")
    assert "did you mean `loss_W`" in message and "common." not in message


def test_a_misspelt_array_method_is_not_called_a_missing_reshape(reports):
    cee = reports["undefined_names.py"].exercises[0]
    message = next(d.message for d in cee.diagnoses if d.id == "misspelt-attribute")
    assert "`reshpae`" in message and "`reshape`" in message


def test_the_other_operator_precedence_slip_is_diagnosed_too(write_submission):
    source = "def numerical_diff(f, x):\n    h = 1e-4\n    return (f(x+h) - f(x-h)) / 2*h\n"
    report = grade_path(write_submission(source), only=("numerical_diff",))
    assert [d.id for d in report.exercises[0].diagnoses] == ["diff-operator-precedence"]


def test_a_hard_coded_exercise_earns_nothing():
    report = grade_path(SUBMISSIONS / "hard_coded.py", only=("cross_entropy_error", "numerical_gradient"))
    for result in report.exercises:
        assert "hard-coded" in [d.id for d in result.diagnoses]
        assert result.score == 0.0 and result.status == "failed"


def _message(reports, name: str, diagnosis: str) -> str:
    return next(d.message for d in reports[name].exercises[0].diagnoses if d.id == diagnosis)


def test_swapped_cross_entropy_arguments_are_named(reports):
    message = _message(reports, "cee_swapped_arguments.py", "cee-arguments-swapped")
    assert "y and t are swapped" in message and "-np.sum(t * np.log(y + delta))" in message


def test_a_missing_minus_sign_is_named_even_with_the_delta_missing_too(reports):
    ids = [d.id for d in reports["cee_sign_and_delta.py"].exercises[0].diagnoses]
    # Both are in the code: no minus, no delta (the exact 0 gives -inf).
    assert {"cee-wrong-sign", "cee-missing-delta"} <= set(ids)


def test_t_times_the_picked_probabilities_is_named(reports):
    message = _message(reports, "cee_label_times_t.py", "cee-label-times-t")
    assert "the t * in front" in message


def test_a_one_hot_only_cross_entropy_fails_exactly_the_integer_label_cases(reports):
    result = reports["cee_onehot_only.py"].exercises[0]
    failed = [c.name for c in result.checks if not c.passed]
    assert failed and all("integer labels" in name for name in failed)
    assert "y[np.arange(batch_size), t]" in _message(reports, "cee_onehot_only.py", "cee-one-hot-only")


def test_a_gradient_assigned_whole_in_the_loop_is_named_with_the_students_variable(reports):
    message = _message(reports, "gradient_not_indexed.py", "gradient-overwritten")
    assert "`grad = ...`" in message and "grad[idx]" in message


def test_a_constructor_without_weight_init_std_fails_only_the_check_that_passes_it(reports):
    result = reports["net_without_weight_init_std.py"].exercises[0]
    failed = [c.name for c in result.checks if not c.passed and not c.skipped]
    assert failed == ["initial weights scaled by weight_init_std = 0.1"]
    assert result.score == round(25 * 8 / 9, 2)
    message = _message(reports, "net_without_weight_init_std.py", "init-missing-parameter")
    assert "has no `weight_init_std` parameter" in message and "weight_init_std=0.1" in message


def test_the_second_layer_fed_the_input_is_named_with_the_shapes_that_clash(reports):
    message = _message(reports, "net_second_layer_gets_input.py", "second-layer-fed-input")
    assert "W2, of shape (4, 3)" in message and "an array of shape (6, 5)" in message


def test_layers_that_are_not_chained_are_named_with_the_students_call(reports):
    message = _message(reports, "layer_net_not_chained.py", "layers-not-chained")
    assert "`layer.forward(x)` hands `x` to every layer" in message and "x = layer.forward(x)" in message
