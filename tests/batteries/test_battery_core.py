"""The judge's type policy, comparison, messages and scoring (autograder.batteries.core).

A tiny battery with a hand-written reference (not the package's) keeps these tests about
the judge alone; the expected values are hand-checked numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.batteries import (
    ASSIGNMENTS,
    Battery,
    Case,
    Test,
    check,
    find_forbidden_imports,
    forbidden_in_function,
    load,
)
from autograder.batteries.core import diagnose
from autograder.batteries.harness import Failed, Raised, Returned


def double(x, *, scale=1.0):
    """Reference of the toy battery: 2·x·scale as float64."""
    return 2.0 * np.asarray(x, dtype=np.float64) * scale


ARRAY = Test("test_double", "double", 2, [Case((np.array([1.0, 2.0]),))], reference=double)
SCALAR = Test("test_double_scalar", "double", 1, [Case((3.0,))], reference=double)
BATTERY = Battery("toy", [ARRAY, SCALAR])


def judge(test, value):
    return BATTERY.judge(test, [Returned(value)])


def test_exact_array_passes():
    """Does a float64 ndarray with the right values earn full marks?"""
    verdict = judge(ARRAY, np.array([2.0, 4.0]))
    assert verdict.passed and verdict.score == 2 and verdict.max_score == 2


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ([2.0, 4.0], "not a list"),
        ((2.0, 4.0), "not a tuple"),
        (np.array([2.0, 4.0], dtype=np.float32), "float64"),
        (np.array([2, 4]), "float64"),
        (np.array([[2.0, 4.0]]), "expected shape (2,)"),
        (np.array([2.0, 4.0 + 1e-5]), "rtol"),
        (np.array([2.0, np.nan]), "NaN or inf"),
        (None, "forget `return`"),
        ("2, 4", "got str"),
    ],
)
def test_wrong_array_results_fail_with_a_reason(value, fragment):
    """Does each kind of wrong array result score 0 with a message that says what is wrong?"""
    verdict = judge(ARRAY, value)
    assert verdict.score == 0
    assert fragment in verdict.message


def test_ndarray_subclass_with_lying_eq_fails():
    """Is an ndarray subclass whose == is always True refused before any comparison?"""

    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

        def __array_finalize__(self, obj):
            pass

    verdict = judge(ARRAY, np.array([0.0, 0.0]).view(Liar))
    assert verdict.score == 0 and "Liar" in verdict.message


@pytest.mark.parametrize("value", [6.0, 6, np.float64(6.0), np.array(6.0)])
def test_scalar_results_accept_float_int_numpy_scalar_and_0d(value):
    """Do a Python float, int, numpy float64 and a 0-d array all pass where one number is due?"""
    assert judge(SCALAR, value).passed


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (np.array([6.0]), "single number"),
        (np.float32(6.0), "float64"),
        ([6.0], "not a list"),
        (True, "got bool"),
    ],
)
def test_scalar_results_refuse_arrays_lists_and_float32(value, fragment):
    """Is a (1,) array, a float32 or a list refused where one float64 number is due?"""
    verdict = judge(SCALAR, value)
    assert verdict.score == 0 and fragment in verdict.message


def test_special_values_must_sit_where_the_reference_has_them():
    """Must inf and NaN appear exactly where the reference has them, with the same sign?"""
    ref = Test(
        "t", "f", 1, [Case(expected=np.array([np.inf, np.nan, 1.0]))], reference=lambda: None
    )
    battery = Battery("toy", [ref])
    assert battery.judge(ref, [Returned(np.array([np.inf, np.nan, 1.0]))]).passed
    for wrong in ([-np.inf, np.nan, 1.0], [np.inf, 0.0, 1.0], [1e308, np.nan, 1.0]):
        verdict = battery.judge(ref, [Returned(np.array(wrong))])
        assert verdict.score == 0 and "inf or NaN" in verdict.message


def test_tuple_results_are_judged_item_by_item():
    """Is a (loss, grad) tuple judged item by item, accepting a list of the same items?"""
    test = Test(
        "t", "f", 1, [Case(expected=(np.float64(1.5), np.array([1.0, -1.0])))], reference=None
    )
    battery = Battery("toy", [test])
    assert battery.judge(test, [Returned((1.5, np.array([1.0, -1.0])))]).passed
    assert battery.judge(test, [Returned([1.5, np.array([1.0, -1.0])])]).passed
    assert "tuple of 2" in battery.judge(test, [Returned(1.5)]).message
    assert battery.judge(test, [Returned((1.5, np.array([1.0, 1.0])))]).score == 0


def test_scoring_is_all_or_nothing_per_cell():
    """Does one failing case out of three cost the whole cell, as nbgrader scores cells?"""
    test = Test("t", "double", 3, [Case((1.0,)), Case((2.0,)), Case((3.0,))], reference=double)
    battery = Battery("toy", [test])
    verdict = battery.judge(test, [Returned(2.0), Returned(4.0), Returned(7.0)])
    assert verdict.score == 0 and verdict.max_score == 3
    assert verdict.message.startswith("1 of 3 checks failed")


def test_outcomes_other_than_a_value():
    """Are exceptions, expected exceptions, stubs and timeouts each judged with their reason?"""
    raises = Case((np.array([-1.0]),), expect_error="ValueError", category="raises")
    test = Test("t", "double", 1, [raises], reference=double)
    battery = Battery("toy", [test])
    assert battery.judge(test, [Raised("ValueError", "negative")]).passed
    assert "got TypeError" in battery.judge(test, [Raised("TypeError", "")]).message
    assert "a value was returned" in battery.judge(test, [Returned(np.array([-2.0]))]).message
    assert "NotImplementedError" in battery.judge(test, [Raised("NotImplementedError")]).message
    verdict = battery.judge(ARRAY, [Failed("timed out after 10 s")])
    assert verdict.score == 0 and "timed out after 10 s" in verdict.message


def test_raised_message_is_never_shown():
    """Is the student's exception text (which could echo hidden inputs) kept out of feedback?"""
    verdict = BATTERY.judge(ARRAY, [Raised("ValueError", "secret input [1.0, 2.0]")])
    assert "ValueError" in verdict.message and "secret" not in verdict.message


def test_exception_type_names_of_the_students_own_are_not_echoed():
    """Is a self-made exception class name (which could spell hidden inputs) kept out?"""
    verdict = BATTERY.judge(ARRAY, [Raised("Input_1_0_2_0", "")])
    assert "Input_1_0_2_0" not in verdict.message and "defined in your code" in verdict.message


def test_custom_compare_replaces_the_elementwise_check():
    """Is Test.compare used instead of the default comparison, on the checked plain copy?"""
    seen = []

    def at_least_one(value, expected, case):
        seen.append(type(value))
        return None if float(value) >= 1.0 else "score below 1"

    test = Test("t", "f", 1, [Case()], compare=at_least_one, reference=lambda: 0.0)
    battery = Battery("toy", [test])
    assert battery.judge(test, [Returned(5.0)]).passed
    assert "score below 1" in battery.judge(test, [Returned(0.5)]).message
    assert seen == [float, float]
    assert "wrong structure" in battery.judge(test, [Returned((1.0, 2.0))]).message


def test_diagnosis_names_log_base_sign_and_reduction_mistakes():
    """Are a log10-for-ln factor, a flipped sign and a sum-for-mean recognised?"""
    expected = np.array([np.log(2.0), np.log(4.0)])
    assert diagnose(expected / np.log(10.0), expected) == "base"
    assert diagnose(expected / np.log(2.0), expected) == "base"
    assert diagnose(-expected, expected) == "sign"
    assert diagnose(np.float64(12.0), np.float64(3.0)) == "reduction"
    assert diagnose(np.float64(3.1), np.float64(3.0)) is None


def test_message_lookup_prefers_test_then_battery_then_defaults():
    """Does a Test's own message override the battery's, which overrides the default?"""
    test = Test("t", "f", 1, [], messages={"overflow": "TEST"})
    battery = Battery("toy", [test], messages={"overflow": "BATTERY", "base": "B2"})
    assert battery.message_for(test, "overflow") == "TEST"
    assert battery.message_for(test, "base") == "B2"
    assert "do not clip" in battery.message_for(Test("u", "f", 1, []), "zero_q")
    assert "wrong value" in battery.message_for(test, "no-such-category")


def test_duplicate_grade_ids_are_refused():
    """Does a battery refuse two tests with the same grade_id?"""
    with pytest.raises(ValueError, match="duplicate"):
        Battery("toy", [ARRAY, ARRAY])


def test_forbidden_imports_found_in_source_and_in_live_functions():
    """Are scipy/autograder imports caught in source text and in a function's globals?"""
    source = "import numpy as np\nfrom scipy.special import softmax\nimport autograder.information"
    assert find_forbidden_imports(source, ["scipy", "autograder"]) == ["scipy", "autograder"]
    assert find_forbidden_imports("import numpy as np", ["scipy"]) == []

    import scipy.special

    namespace = {"scipy": scipy, "np": np}
    exec("def f(z):\n    return scipy.special.softmax(z)", namespace)
    assert forbidden_in_function(namespace["f"], ["scipy"]) == ["scipy"]
    exec("def g(z):\n    import torch\n    return z", namespace)
    assert forbidden_in_function(namespace["g"], ["torch"]) == ["torch"]
    assert forbidden_in_function(double, ["scipy"]) == []


def test_forbidden_import_costs_the_cell():
    """Does a function that calls scipy score 0 with a message naming the rule?"""
    from scipy.special import softmax

    def student_softmax(z, *, axis=-1):
        return softmax(z, axis=axis)

    test = load("ps3_softmax_sigmoid").test("test_softmax")
    verdict = load("ps3_softmax_sigmoid").run(test, student_softmax)
    assert verdict.score == 0 and "scipy" in verdict.message and "numpy" in verdict.message


def test_check_refuses_the_reference_itself():
    """Does handing the reference's own function to check() count as a forbidden import?"""
    from autograder import softmax

    with pytest.raises(AssertionError, match="autograder"):
        check("ps3_softmax_sigmoid", "test_softmax", softmax)


def test_check_raises_assertion_with_the_message_and_is_silent_on_success(capsys):
    """Does check() raise AssertionError with the feedback on failure and print nothing?"""

    def naive_softmax(z, *, axis=-1):
        e = np.exp(z)
        return e / e.sum(axis=axis, keepdims=True)

    with pytest.raises(AssertionError, match="max shift"):
        check("ps3_softmax_sigmoid", "test_softmax", naive_softmax)

    def stable_softmax(z, *, axis=-1):
        z = np.asarray(z, dtype=np.float64)
        e = np.exp(z - np.max(z, axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    check("ps3_softmax_sigmoid", "test_softmax", stable_softmax)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    with pytest.raises(AssertionError, match="must be a function"):
        check("ps3_softmax_sigmoid", "test_softmax", 3)


def test_load_knows_every_assignment_and_refuses_others():
    """Does load() name the eight assignments and reject an unknown one?"""
    assert len(ASSIGNMENTS) == 8 and load("ps1_information").assignment == "ps1_information"
    with pytest.raises(ValueError, match="unknown assignment"):
        load("ps0_nothing")
    with pytest.raises(KeyError, match="known"):
        load("ps1_information").test("test_nothing")
