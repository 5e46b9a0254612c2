"""The batteries of ps1–ps4: sound, deterministic, and strict where they must be."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import autograder
from autograder.batteries import harness, load

ASSIGNMENTS = (
    "ps1_information",
    "ps2_divergence",
    "ps3_softmax_sigmoid",
    "ps4_classification_losses",
)
TESTS = [(a, t.grade_id) for a in ASSIGNMENTS for t in load(a).tests]


@pytest.mark.parametrize(("assignment", "grade_id"), TESTS)
def test_reference_earns_full_marks(assignment, grade_id):
    """Does the reference itself pass every case (so no case asks for the impossible)?"""
    battery = load(assignment)
    test = battery.test(grade_id)
    reference = getattr(autograder, test.function)
    outcomes = [harness.run_case(reference, test, case) for case in test.cases]
    verdict = battery.judge(test, outcomes)
    assert verdict.passed, verdict.message


@pytest.mark.parametrize(("assignment", "grade_id"), TESTS)
def test_stub_scores_zero_with_the_not_implemented_message(assignment, grade_id):
    """Does the released stub (raise NotImplementedError) score 0 and say what to do?"""
    battery = load(assignment)
    test = battery.test(grade_id)

    def stub(*args, **kwargs):
        raise NotImplementedError()

    verdict = battery.run(test, stub)
    assert verdict.score == 0 and "NotImplementedError" in verdict.message


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_batteries_are_deterministic(assignment):
    """Does building a battery twice give the same cases (fixed seeds, no clock)?"""
    module = importlib.import_module(f"autograder.batteries.{assignment}")
    first, second = module._build(), module._build()
    for t1, t2 in zip(first.tests, second.tests, strict=True):
        for c1, c2 in zip(t1.cases, t2.cases, strict=True):
            for a1, a2 in zip(c1.args, c2.args, strict=True):
                np.testing.assert_array_equal(a1, a2)


@pytest.mark.parametrize(("assignment", "grade_id"), TESTS)
def test_every_case_is_plain_data_with_a_known_category(assignment, grade_id):
    """Are case inputs plain data the sandbox can ship, and every category explained?"""
    battery = load(assignment)
    test = battery.test(grade_id)
    assert test.cases and test.points > 0
    for case in test.cases:
        for arg in (*case.args, *case.kwargs.values()):
            assert type(arg) in (np.ndarray, float, int, str), type(arg)
            if type(arg) is np.ndarray:
                assert arg.dtype.kind in "fi"
        message = battery.message_for(test, case.category)
        assert case.category in ("value",) or message != battery.message_for(test, "value")


STABILITY = {
    "test_sigmoid": "overflow",
    "test_log_sigmoid": "underflow",
    "test_logsumexp": "overflow",
    "test_softmax": "overflow",
    "test_log_softmax": "large_gap",
    "test_softmax_cross_entropy_stable": "overflow",
    "test_sigmoid_cross_entropy_stable": "overflow",
    "test_binary_cross_entropy_edges": "clamp",
    "test_entropy": "zero_prob",
    "test_kl_divergence": "zero_q",
    "test_cross_entropy": "zero_q",
}


@pytest.mark.parametrize(("grade_id", "category"), sorted(STABILITY.items()))
def test_edge_cases_are_in_the_battery(grade_id, category):
    """Does each cell hold the edge cases that separate a careful answer from a naive one?"""
    for assignment in ASSIGNMENTS:
        battery = load(assignment)
        if grade_id in battery.grade_ids:
            cases = battery.test(grade_id).cases
            assert sum(c.category == category for c in cases) >= 2
            return
    pytest.fail(f"no test {grade_id}")


def test_extreme_logits_reach_1e4():
    """Do the ps3/ps4 batteries use logits of magnitude 800 and 1e4, as numerics.md asks?"""
    for assignment in ASSIGNMENTS[2:]:
        biggest = max(
            float(np.max(np.abs(arg[np.isfinite(arg)]), initial=0.0))
            for t in load(assignment).tests
            for c in t.cases
            for arg in c.args
            if type(arg) is np.ndarray and arg.dtype.kind == "f"
        )
        assert biggest >= 1e4, assignment
