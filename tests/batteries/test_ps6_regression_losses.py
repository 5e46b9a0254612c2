"""The ps6_regression_losses battery: hand-checked expected values and the order of its cases.

The expected values come from the reference in the grader; here they are checked against
values worked out by hand (the chapter's examples, the thresholds, residuals of 1e200),
so a correct student answer is never marked wrong because of the battery.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.batteries import load

BATTERY = load("ps6_regression_losses")


def _case(test, category, **kwargs):
    """The first case of ``test`` with this category and exactly these keyword arguments."""
    for case in test.cases:
        if case.category == category and dict(case.kwargs) == kwargs:
            return case
    raise LookupError((test.grade_id, category, kwargs))


def _expected(grade_id, category, **kwargs):
    test = BATTERY.test(grade_id)
    return np.asarray(BATTERY.expected(test, _case(test, category, **kwargs)))


# Residuals of the boundary case: 0.5, 3, −1, 1, 0, −0.25 (threshold 1, |d| = 1 twice).
HAND = {
    ("test_smooth_l1_loss", "boundary"): [0.125, 2.5, 0.5, 0.5, 0.0, 0.03125],
    ("test_smooth_l1_loss_grad", "boundary"): [0.5, 1.0, -1.0, 1.0, 0.0, -0.25],
    ("test_huber_loss", "boundary"): [0.125, 2.5, 0.5, 0.5, 0.0, 0.03125],
    ("test_huber_loss_grad", "boundary"): [0.5, 1.0, -1.0, 1.0, 0.0, -0.25],
}


@pytest.mark.parametrize(("grade_id", "category"), sorted(HAND))
def test_boundary_values_match_hand_computation(grade_id, category):
    """Are the expected values at |d| exactly the threshold the hand-computed ones?"""
    np.testing.assert_allclose(
        _expected(grade_id, category, reduction="none"), HAND[grade_id, category], rtol=1e-15
    )


def test_threshold_two_and_a_half_values_by_hand():
    """With beta = delta = 2.5 at d = ±2.5, 1, −4, 0, do the two losses differ by exactly 2.5?"""
    smooth = _expected("test_smooth_l1_loss", "boundary", beta=2.5, reduction="none")
    huber = _expected("test_huber_loss", "boundary", delta=2.5, reduction="none")
    np.testing.assert_allclose(smooth, [1.25, 1.25, 0.2, 2.75, 0.0], rtol=1e-15)
    np.testing.assert_allclose(huber, 2.5 * smooth, rtol=1e-15)


def test_huge_residuals_have_finite_expected_losses():
    """Is the expected Huber / smooth L1 loss at |d| = 1e200 the finite |d| − 0.5 (no overflow)?"""
    for grade_id in ("test_smooth_l1_loss", "test_huber_loss"):
        test = BATTERY.test(grade_id)
        for case in test.cases:
            if case.category != "huge":
                continue
            expected = np.asarray(BATTERY.expected(test, case))
            d = np.abs(case.args[0] - case.args[1])
            hand = np.where(d < 1.0, 0.5 * np.minimum(d, 1.0) ** 2, d - 0.5)
            assert np.all(np.isfinite(expected))
            np.testing.assert_allclose(expected, hand, rtol=1e-15)


def test_beta_zero_is_l1():
    """Is the expected smooth L1 at beta = 0 exactly |d|, and its gradient sign(d)?"""
    for grade_id, oracle in (
        ("test_smooth_l1_loss", np.abs),
        ("test_smooth_l1_loss_grad", np.sign),
    ):
        test = BATTERY.test(grade_id)
        cases = [c for c in test.cases if c.category == "beta_zero"]
        assert cases
        for case in cases:
            d = case.args[0] - case.args[1]
            np.testing.assert_array_equal(BATTERY.expected(test, case), oracle(d))


@pytest.mark.parametrize("grade_id", BATTERY.grade_ids)
def test_the_hand_case_is_first_and_per_element(grade_id):
    """Does each test start with the hand case, on per-element values (no reduction involved)?"""
    first = BATTERY.test(grade_id).cases[0]
    assert first.category == "value" and first.kwargs["reduction"] == "none"


@pytest.mark.parametrize("grade_id", BATTERY.grade_ids)
def test_only_reduction_cases_reduce(grade_id):
    """Is every case that uses "mean" or "sum" a reduction case, so that a wrong formula is
    never reported as a wrong reduction?"""
    for case in BATTERY.test(grade_id).cases:
        if case.expect_error is None and case.kwargs.get("reduction", "mean") != "none":
            assert case.category == "reduction", case


@pytest.mark.parametrize("grade_id", BATTERY.grade_ids)
def test_every_test_probes_kink_reduction_and_dtype(grade_id):
    """Does every test probe the kink at d = 0, all three reductions and non-float64 inputs?"""
    cases = BATTERY.test(grade_id).cases
    categories = {c.category for c in cases}
    assert {"value", "kink", "batch", "reduction", "dtype"} <= categories
    assert {c.kwargs.get("reduction", "mean") for c in cases} == {"mean", "sum", "none"}


def test_thresholds_probe_their_own_mistakes():
    """Do the smooth L1 tests probe beta = 0 and the Huber tests delta ≤ 0 and delta ≠ 1?"""
    for grade_id in ("test_smooth_l1_loss", "test_smooth_l1_loss_grad"):
        categories = {c.category for c in BATTERY.test(grade_id).cases}
        assert {"beta", "beta_zero", "boundary", "huge", "raises"} <= categories
    for grade_id in ("test_huber_loss", "test_huber_loss_grad"):
        cases = BATTERY.test(grade_id).cases
        assert {"delta", "boundary", "huge", "raises"} <= {c.category for c in cases}
        raising = [c.kwargs["delta"] for c in cases if c.expect_error == "ValueError"]
        assert sorted(raising) == [-1.0, 0.0]


def test_messages_never_show_inputs():
    """Does a failing verdict name misconceptions only, never the hidden arrays?"""
    test = BATTERY.test("test_huber_loss")
    verdict = BATTERY.run(test, lambda input, target, **kw: np.zeros(np.shape(input)) + 7.0)
    assert not verdict.passed
    shown = [
        repr(float(v))
        for case in test.cases
        for arg in case.args
        for v in np.ravel(arg)
        if len(repr(float(v))) > 6  # the random residuals; 0.5, 2.5, 1e200 are in the formulas
    ]
    assert shown and not any(text in verdict.message for text in shown)


def test_battery_is_numpy_only():
    """Is ps6 numpy-only (SymPy, SciPy, torch and the reference all forbidden), 20 points?"""
    assert {"sympy", "scipy", "torch", "autograder"} <= set(BATTERY.forbidden_imports)
    assert BATTERY.max_score == 20.0
