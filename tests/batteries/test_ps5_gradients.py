"""The ps5_gradients battery: expected values against independent oracles, and its judge.

The expected values a student is compared with must be right: the exact gradients behind
``numerical_gradient`` are checked against mpmath's numerical differentiation at 30
digits, the closed forms behind the SymPy answers against ``sympy.diff`` of the losses
themselves, and the reference values of the precision cases against mpmath.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy

from autograder.batteries import harness, load
from autograder.batteries.ps5_gradients import _compare_sympy

BATTERY = load("ps5_gradients")
mpmath.mp.dps = 30


def _mp_function(name):
    """The harness's scalar test functions, written again in mpmath on a flat list."""

    def sum_of_squares(v):
        return mpmath.fsum(x**2 for x in v)

    def logsumexp(v):
        return mpmath.log(mpmath.fsum(mpmath.exp(x) for x in v))

    def sin_product(v):
        n = len(v)
        return mpmath.fsum(mpmath.sin(v[k]) * v[(k + 1) % n] for k in range(n))

    def rosenbrock(v):
        return mpmath.fsum(
            100 * (v[k + 1] - v[k] ** 2) ** 2 + (1 - v[k]) ** 2 for k in range(len(v) - 1)
        )

    return locals()[name]


def _mp_gradient(name, x):
    """∇f(x) by mpmath's numerical differentiation at 30 digits (flattened order)."""
    f = _mp_function(name)
    flat = [mpmath.mpf(float(v)) for v in np.ravel(x)]
    grad = []
    for i in range(len(flat)):

        def partial(t, i=i):
            return f([t if k == i else v for k, v in enumerate(flat)])

        grad.append(float(mpmath.diff(partial, flat[i])))
    return np.array(grad).reshape(np.shape(x))


NUMGRAD = BATTERY.test("test_numerical_gradient")


def _mp_central(name, x, eps):
    """Central differences at step ``eps``, in 50-digit arithmetic."""
    mpmath.mp.dps = 50
    f = _mp_function(name)
    flat = [mpmath.mpf(float(v)) for v in np.ravel(x)]
    step = mpmath.mpf(eps)
    grad = []
    for i in range(len(flat)):
        up = [v + step if k == i else v for k, v in enumerate(flat)]
        down = [v - step if k == i else v for k, v in enumerate(flat)]
        grad.append(float((f(up) - f(down)) / (2 * step)))
    return np.array(grad).reshape(np.shape(x))


@pytest.mark.parametrize("case", NUMGRAD.cases, ids=lambda c: c.category)
def test_exact_gradients_match_mpmath(case):
    """Is every expected gradient of test_numerical_gradient the true gradient to 1e-14 (for
    the large-eps case, the true central difference at that eps)?"""
    ref, x = case.args
    eps = case.kwargs.get("eps", 1e-6)
    expected = _mp_central(ref.name, x, eps) if eps >= 0.1 else _mp_gradient(ref.name, x)
    np.testing.assert_allclose(case.expected, expected, rtol=1e-14, atol=1e-14)


def test_harness_functions_match_their_mpmath_twins():
    """Do the harness's named functions compute what the exact gradients assume?"""
    x = np.array([[0.1, 1.3, -0.7], [2.0, -1.1, 0.4]])
    for name, func in harness.FUNCTIONS.items():
        flat = [mpmath.mpf(float(v)) for v in x.ravel()]
        assert func(x) == pytest.approx(float(_mp_function(name)(flat)), rel=1e-14), name


def _central(f, x, eps):
    x = np.array(x, dtype=np.float64)
    g = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        fp = f(x)
        x[idx] = old - eps
        fm = f(x)
        x[idx] = old
        g[idx] = (fp - fm) / (2 * eps)
    return g


@pytest.mark.parametrize("case", NUMGRAD.cases, ids=lambda c: c.category)
def test_central_differences_pass_with_a_tenfold_margin(case):
    """Does a correct central difference stay 10× inside rtol = atol = 1e-7 on every case?"""
    ref, x = case.args
    eps = case.kwargs.get("eps", 1e-6)
    g = _central(harness.FUNCTIONS[ref.name], x, eps)
    err = np.abs(g - case.expected) / (NUMGRAD.atol + NUMGRAD.rtol * np.abs(case.expected))
    assert np.max(err) < 0.1


def test_forward_differences_fail_the_central_cases():
    """Is the forward difference's O(eps) error caught by every "central" case?"""
    for case in NUMGRAD.cases:
        if case.category != "central":
            continue
        ref, x = case.args
        f = harness.FUNCTIONS[ref.name]
        x = np.asarray(x, dtype=np.float64)
        g = np.array([(f(x + 1e-6 * e) - f(x)) / 1e-6 for e in np.eye(x.size)])
        assert not np.allclose(g, case.expected, rtol=1e-7, atol=1e-7)


# -- SymPy answers --------------------------------------------------------------------------

Z, Y = sympy.symbols("z y")
ZS = sympy.symbols("z0:3")
SIG = 1 / (1 + sympy.exp(-Z))
LOSSES = {
    "test_sigmoid_derivative_expr": lambda: sympy.diff(SIG, Z),
    "test_bce_logit_grad_expr": lambda: sympy.diff(
        -(Y * sympy.log(SIG) + (1 - Y) * sympy.log(1 - SIG)), Z
    ),
    "test_mse_sigmoid_grad_expr": lambda: sympy.diff((SIG - Y) ** 2 / 2, Z),
    "test_softmax_jacobian_entry": lambda i, j: sympy.diff(
        sympy.exp(ZS[i]) / sum(sympy.exp(v) for v in ZS), ZS[j]
    ),
}


@pytest.mark.parametrize("grade_id", sorted(LOSSES))
def test_sympy_closed_forms_equal_the_derivatives_of_the_losses(grade_id):
    """Does each closed form the grader uses equal sympy.diff of the loss at every point?"""
    test = BATTERY.test(grade_id)
    assert test.protocol == "sympy"
    for case in test.cases:
        derived = harness.evaluate_sympy(LOSSES[grade_id](*case.args), case.evaluate_at)
        expected = BATTERY.expected(test, case)
        np.testing.assert_allclose(expected, derived, rtol=1e-14, atol=1e-15)
        assert len(case.evaluate_at) >= 3  # several points: a lucky constant cannot pass


def test_sympy_compare_names_sign_errors_and_constant_factors():
    """Does the SymPy comparison accept the answer and name a sign error or a constant
    factor (without showing the factor)?"""
    expected = np.array([0.25, -0.1, 0.3])
    assert _compare_sympy(expected.copy(), expected, None) is None
    assert "sign error" in _compare_sympy(-expected, expected, None)
    factor = _compare_sympy(2 * expected, expected, None)
    # fixed wording: the ratio is computed from hidden points and is never shown
    assert "constant multiple" in factor and not any(c.isdigit() for c in factor)
    assert "not finite" in _compare_sympy(np.array([np.nan, 0.0, 0.0]), expected, None)
    assert "single SymPy expression" in _compare_sympy(np.zeros((3, 2)), expected, None)
    assert _compare_sympy(expected + np.array([0.0, 0.5, 0.0]), expected, None) == (
        "wrong value at some test points"
    )


def test_a_correct_sympy_answer_in_another_form_passes():
    """Does σ'(z) written as e^z / (1 + e^z)² get full marks (no string comparison)?"""
    z = sympy.Symbol("z", positive=True)  # other assumptions, same name: the same variable
    test = BATTERY.test("test_sigmoid_derivative_expr")
    verdict = BATTERY.run(test, lambda: sympy.exp(z) / (1 + sympy.exp(z)) ** 2)
    assert verdict.passed, verdict.message


# -- reference values of the gradient tests ---------------------------------------------------


# The naive formulas p − onehot and σ(x) − t cancel catastrophically (at x = 700 the
# answer is 1e−304 against terms of size 1), so the oracles run them at 400 digits.


@mpmath.workdps(400)
def _mp_softmax_grad(logits, target, reduction):
    rows = []
    for z, label in zip(np.atleast_2d(logits), np.atleast_1d(target), strict=True):
        e = [mpmath.exp(mpmath.mpf(float(v))) for v in z]
        total = mpmath.fsum(e)
        rows.append([p / total - (1 if c == label else 0) for c, p in enumerate(e)])
    scale = len(rows) if reduction == "mean" else 1
    return np.array([[float(v / scale) for v in row] for row in rows])


@mpmath.workdps(400)
def _mp_sigmoid_grad(logits, target, reduction):
    x = np.asarray(logits, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    out = [
        1 / (1 + mpmath.exp(-mpmath.mpf(float(a)))) - mpmath.mpf(float(b))
        for a, b in zip(x.ravel(), t.ravel(), strict=True)
    ]
    scale = x.size if reduction == "mean" else 1
    return np.array([float(v / scale) for v in out]).reshape(x.shape)


@pytest.mark.parametrize(
    ("grade_id", "oracle"),
    [
        ("test_softmax_cross_entropy_grad_precision", _mp_softmax_grad),
        ("test_sigmoid_cross_entropy_grad_precision", _mp_sigmoid_grad),
        ("test_softmax_cross_entropy_grad", _mp_softmax_grad),
        ("test_sigmoid_cross_entropy_grad", _mp_sigmoid_grad),
    ],
)
def test_reference_values_match_mpmath(grade_id, oracle):
    """Are the grader's expected gradients within 1e-13 (relative) of mpmath, tails included?"""
    test = BATTERY.test(grade_id)
    for case in test.cases:
        if np.any(np.isinf(case.args[0])):
            continue  # masked logits: exp(−inf) = 0 is exact; checked in the reference's tests
        expected = np.asarray(BATTERY.expected(test, case), dtype=np.float64)
        oracle_value = oracle(*case.args, case.kwargs.get("reduction", "mean"))
        np.testing.assert_allclose(expected, oracle_value, rtol=1e-13, atol=0)


def test_precision_cases_separate_stable_from_naive():
    """Does every precision case hold a tiny entry that `σ(x) − 1` or `p_y − 1` turns into 0?"""
    for grade_id in (
        "test_softmax_cross_entropy_grad_precision",
        "test_sigmoid_cross_entropy_grad_precision",
    ):
        test = BATTERY.test(grade_id)
        for case in test.cases:
            assert case.atol == 0.0
            expected = np.asarray(BATTERY.expected(test, case))
            tiny = (expected != 0) & (np.abs(expected) < 1e-16)
            assert np.any(tiny), f"{grade_id}: no entry that naive code rounds to 0"


def test_battery_allows_sympy_and_forbids_the_reference():
    """Are SymPy and numpy allowed in ps5 while autograder, scipy and torch are forbidden?"""
    assert "sympy" not in BATTERY.forbidden_imports
    assert {"autograder", "scipy", "torch"} <= set(BATTERY.forbidden_imports)
    assert BATTERY.max_score == 17.0
