"""Tests for autograder.activations: values, invariances, extremes and special values.

Oracles are hand-checkable numbers (``math.exp``, ``math.log``), SciPy on moderate inputs
and finite differences; the mpmath accuracy grid is in ``test_accuracy.py``.
"""

import math

import numpy as np
import pytest
from scipy import special

from autograder.activations import (
    log_sigmoid,
    log_softmax,
    logsumexp,
    sigmoid,
    sigmoid_grad,
    softmax,
    softmax_jacobian,
    softplus,
)

SOFTMAX_FAMILY = [logsumexp, softmax, log_softmax]
ELEMENTWISE = [sigmoid, log_sigmoid, softplus, sigmoid_grad]
RNG = np.random.default_rng(20240601)


# Raise on overflow and invalid operations: a stable implementation never produces them.
def strict():
    """A context in which overflow, invalid operations and division by zero raise."""
    return np.errstate(over="raise", invalid="raise", divide="raise")


# ---------------------------------------------------------------- hand-checkable values


def test_softmax_of_known_logits():
    """Is softmax([0, log 3]) equal to [1/4, 3/4], and softmax of equal logits uniform?"""
    np.testing.assert_allclose(softmax([0.0, math.log(3.0)]), [0.25, 0.75], rtol=1e-15)
    np.testing.assert_array_equal(softmax([2.0, 2.0]), [0.5, 0.5])
    np.testing.assert_allclose(softmax([5.0, 5.0, 5.0]), np.full(3, 1 / 3), rtol=1e-15)


def test_logsumexp_of_known_logits():
    """Is logsumexp([0, 0]) = log 2 and logsumexp([1000, 1000]) = 1000 + log 2?"""
    assert logsumexp([0.0, 0.0]) == math.log(2.0)
    assert logsumexp([1000.0, 1000.0]) == 1000.0 + math.log(2.0)
    assert logsumexp([-1000.0, -1000.0]) == -1000.0 + math.log(2.0)


def test_log_softmax_keeps_the_dominant_class_digits():
    """Is log_softmax([40, 0])[0] = −log1p(e^−40) ≈ −4.25e−18, not 0 as in PyTorch?"""
    out = log_softmax([40.0, 0.0])
    assert out[0] == -math.log1p(math.exp(-40.0))
    assert out[0] < 0
    assert out[1] == -40.0 - math.log1p(math.exp(-40.0))


def test_ties_share_probability():
    """Do tied logits get equal probabilities and log-probabilities −log C?"""
    np.testing.assert_allclose(log_softmax([7.0, 7.0, 7.0, 7.0]), np.full(4, -math.log(4.0)))
    np.testing.assert_allclose(softmax([7.0, 7.0, -np.inf]), [0.5, 0.5, 0.0])


def test_elementwise_at_zero():
    """Are σ(0) = 1/2, softplus(0) = log 2, log σ(0) = −log 2 and σ′(0) = 1/4?"""
    assert sigmoid(0.0) == 0.5
    assert softplus(0.0) == math.log(2.0)
    assert log_sigmoid(0.0) == -math.log(2.0)
    assert sigmoid_grad(0.0) == 0.25


def test_sigmoid_tail_keeps_relative_accuracy():
    """Is σ(−40) = e^−40/(1 + e^−40) to full relative precision, and σ′(40) not 0?"""
    e = math.exp(-40.0)
    assert sigmoid(-40.0) == pytest.approx(e / (1 + e), rel=2e-16)
    assert sigmoid_grad(40.0) == pytest.approx(e / (1 + e) ** 2, rel=2e-16)
    assert sigmoid_grad(40.0) > 0


# ---------------------------------------------------------------- independent libraries


@pytest.mark.parametrize("scale", [0.1, 3.0, 30.0])
def test_softmax_family_matches_scipy_on_moderate_logits(scale):
    """Do logsumexp, softmax and log_softmax agree with SciPy where SciPy is accurate?"""
    z = RNG.standard_normal((6, 5)) * scale
    np.testing.assert_allclose(logsumexp(z), special.logsumexp(z, axis=-1), rtol=1e-14)
    np.testing.assert_allclose(softmax(z), special.softmax(z, axis=-1), rtol=1e-13)
    np.testing.assert_allclose(
        log_softmax(z), special.log_softmax(z, axis=-1), rtol=1e-13, atol=1e-15
    )


def test_elementwise_match_scipy():
    """Do sigmoid, log_sigmoid and softplus agree with SciPy's expit and log_expit?"""
    x = np.linspace(-30, 30, 121)
    np.testing.assert_allclose(sigmoid(x), special.expit(x), rtol=1e-15)
    np.testing.assert_allclose(log_sigmoid(x), special.log_expit(x), rtol=1e-15)
    np.testing.assert_allclose(softplus(x), -special.log_expit(-x), rtol=1e-15)


# ---------------------------------------------------------------- identities and invariances


@pytest.mark.parametrize("shift", [-1024.0, -3.0, 0.5, 1024.0])
def test_shift_invariance(shift):
    """Is softmax(z + c) = softmax(z) and logsumexp(z + c) = logsumexp(z) + c?

    Logits and shifts are multiples of 2^-20 below 2^20, so z + c is exact.
    """
    z = np.round(RNG.standard_normal((4, 6)) * 2**20) / 2**20
    np.testing.assert_allclose(softmax(z + shift), softmax(z), rtol=4e-16)
    np.testing.assert_allclose(log_softmax(z + shift), log_softmax(z), rtol=4e-16, atol=1e-16)
    np.testing.assert_allclose(logsumexp(z + shift), logsumexp(z) + shift, rtol=1e-15)


def test_softmax_rows_sum_to_one_and_match_log_softmax():
    """Do softmax rows sum to 1, and is exp(log_softmax) = softmax = exp(z − LSE)?"""
    z = RNG.standard_normal((5, 7)) * 10
    s = softmax(z)
    np.testing.assert_allclose(s.sum(axis=-1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(np.exp(log_softmax(z)), s, rtol=1e-14)
    np.testing.assert_allclose(log_softmax(z), z - logsumexp(z, keepdims=True), atol=1e-14)


def test_sigmoid_is_two_class_softmax():
    """Is σ(z) the first entry of softmax([z, 0])?"""
    for z in [-50.0, -3.0, 0.0, 0.7, 36.0]:
        assert sigmoid(z) == pytest.approx(softmax([z, 0.0])[0], rel=1e-15)


def test_sigmoid_symmetry_and_log_identities():
    """Are σ(−z) = 1 − σ(z), log σ(z) − log σ(−z) = z and softplus(z) = −log σ(−z)?"""
    z = np.linspace(-20, 20, 81)
    np.testing.assert_allclose(sigmoid(-z), 1 - sigmoid(z), atol=1e-16)
    np.testing.assert_allclose(log_sigmoid(z) - log_sigmoid(-z), z, atol=1e-14)
    np.testing.assert_array_equal(softplus(z), -log_sigmoid(-z))


def test_sigmoid_grad_matches_definition_and_finite_differences():
    """Is σ′ = σ(z)σ(−z), even, and equal to a central difference of σ?"""
    z = np.linspace(-8, 8, 33)
    np.testing.assert_allclose(sigmoid_grad(z), sigmoid(z) * sigmoid(-z), rtol=1e-15)
    np.testing.assert_array_equal(sigmoid_grad(z), sigmoid_grad(-z))
    h = 1e-5
    central = (sigmoid(z + h) - sigmoid(z - h)) / (2 * h)
    np.testing.assert_allclose(sigmoid_grad(z), central, rtol=1e-8, atol=1e-12)


def test_softmax_jacobian_definition_and_finite_differences():
    """Is the Jacobian diag(s) − s sᵀ, symmetric, with zero row sums, and ∂s_i/∂z_j numerically?"""
    z = np.array([0.3, -1.2, 2.0, 0.0])
    s = softmax(z)
    jac = softmax_jacobian(z)
    np.testing.assert_allclose(jac, np.diag(s) - np.outer(s, s), atol=1e-16)
    np.testing.assert_array_equal(jac, jac.T)
    np.testing.assert_allclose(jac.sum(axis=-1), 0.0, atol=1e-16)
    h = 1e-6
    for j in range(z.size):
        dz = np.zeros_like(z)
        dz[j] = h
        np.testing.assert_allclose(
            jac[:, j], (softmax(z + dz) - softmax(z - dz)) / (2 * h), atol=1e-9
        )


def test_softmax_jacobian_dominant_diagonal_does_not_cancel():
    """Is J_00 for logits [40, 0] about e^−40, where s(1 − s) gives 0?"""
    jac = softmax_jacobian([40.0, 0.0])
    e = math.exp(-40.0)
    assert jac[0, 0] == pytest.approx(e / (1 + e) ** 2, rel=2e-16)
    assert jac[0, 1] == pytest.approx(-e / (1 + e) ** 2, rel=2e-16)


# ---------------------------------------------------------------- extremes


@pytest.mark.parametrize("big", [800.0, 1e4])
def test_softmax_family_survives_huge_logits(big):
    """Do logits of ±800 and ±1e4 give finite, exact answers with no overflow?"""
    z = np.array([[big, 0.0, -big], [-big, -big, -big]])
    with strict():
        s = softmax(z)
        ls = log_softmax(z)
        lse = logsumexp(z)
    np.testing.assert_array_equal(s[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(s[1], np.full(3, 1 / 3))
    np.testing.assert_array_equal(ls[0], [0.0, -big, -2 * big])
    np.testing.assert_array_equal(lse, [big, -big + math.log(3.0)])


@pytest.mark.parametrize("big", [800.0, 1e4])
def test_elementwise_survive_huge_logits(big):
    """Are sigmoid, log_sigmoid, softplus and σ′ exact and warning-free at ±800, ±1e4?"""
    z = np.array([-big, big])
    with strict():
        np.testing.assert_array_equal(sigmoid(z), [0.0, 1.0])
        np.testing.assert_array_equal(log_sigmoid(z), [-big, 0.0])
        np.testing.assert_array_equal(softplus(z), [0.0, big])
        np.testing.assert_array_equal(sigmoid_grad(z), [0.0, 0.0])
        np.testing.assert_array_equal(softmax_jacobian([big, -big]), np.zeros((2, 2)))


def test_sigmoid_subnormal_tail():
    """Is σ(−740) = e^−740 (a subnormal) rather than flushed to 0?"""
    assert sigmoid(-740.0) == math.exp(-740.0)
    assert sigmoid(-740.0) > 0


# ---------------------------------------------------------------- special values


def test_masked_entries_get_zero_probability():
    """Does a −inf logit get probability 0 and log-probability −inf, leaving the rest exact?"""
    z = [1.0, -np.inf, 1.0]
    np.testing.assert_array_equal(softmax(z), [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(log_softmax(z), [-math.log(2), -np.inf, -math.log(2)])
    assert logsumexp(z) == 1.0 + math.log(2.0)


def test_all_masked_row():
    """Does an all −inf row give LSE −inf and NaN softmax (PyTorch), leaving other rows alone?"""
    z = np.array([[-np.inf, -np.inf], [0.0, 0.0]])
    assert logsumexp(z)[0] == -np.inf
    assert np.all(np.isnan(softmax(z)[0])) and np.all(np.isnan(log_softmax(z)[0]))
    np.testing.assert_array_equal(softmax(z)[1], [0.5, 0.5])


def test_positive_infinity_in_a_row():
    """Does a +inf logit give LSE +inf and a NaN softmax row, as in PyTorch?"""
    z = [np.inf, 0.0]
    assert logsumexp(z) == np.inf
    assert np.all(np.isnan(softmax(z))) and np.all(np.isnan(log_softmax(z)))
    assert np.all(np.isnan(softmax_jacobian(z)))


def test_elementwise_infinities():
    """Are the elementwise functions' limits at ±inf the documented ones?"""
    z = np.array([-np.inf, np.inf])
    np.testing.assert_array_equal(sigmoid(z), [0.0, 1.0])
    np.testing.assert_array_equal(log_sigmoid(z), [-np.inf, 0.0])
    np.testing.assert_array_equal(softplus(z), [0.0, np.inf])
    np.testing.assert_array_equal(sigmoid_grad(z), [0.0, 0.0])


@pytest.mark.parametrize("func", SOFTMAX_FAMILY)
def test_nan_propagates_to_its_row_only(func):
    """Does a NaN logit make its own row NaN and leave the next row untouched?"""
    z = np.array([[0.0, np.nan, 1.0], [0.0, 0.0, 0.0]])
    out = func(z)
    assert np.all(np.isnan(out[0]))
    assert not np.any(np.isnan(out[1]))


@pytest.mark.parametrize("func", ELEMENTWISE)
def test_nan_propagates_elementwise(func):
    """Does a NaN input give NaN in that element only?"""
    out = func([np.nan, 0.0])
    assert np.isnan(out[0]) and not np.isnan(out[1])


# ---------------------------------------------------------------- shapes, axes, dtypes


def test_single_class():
    """With C = 1: is softmax 1, log_softmax 0, logsumexp the logit and the Jacobian 0?"""
    z = np.array([[3.5], [-800.0]])
    np.testing.assert_array_equal(softmax(z), [[1.0], [1.0]])
    np.testing.assert_array_equal(log_softmax(z), [[0.0], [0.0]])
    np.testing.assert_array_equal(logsumexp(z), [3.5, -800.0])
    np.testing.assert_array_equal(softmax_jacobian(z), np.zeros((2, 1, 1)))


def test_empty_inputs():
    """Do empty batches keep their shape and an empty class axis give LSE = −inf?"""
    assert softmax(np.zeros((0, 3))).shape == (0, 3)
    assert log_softmax(np.zeros((0, 3))).shape == (0, 3)
    assert logsumexp(np.zeros((0, 3))).shape == (0,)
    np.testing.assert_array_equal(logsumexp(np.zeros((2, 0))), [-np.inf, -np.inf])
    assert softmax(np.zeros((2, 0))).shape == (2, 0)
    assert softmax_jacobian(np.zeros((2, 0))).shape == (2, 0, 0)
    assert sigmoid(np.zeros((0,))).shape == (0,)


@pytest.mark.parametrize("shape", [(5,), (1, 5), (3, 5), (2, 3, 5)])
def test_shapes(shape):
    """Do (C,), (1, C), (N, C) and (B, N, C) inputs give the documented output shapes?"""
    z = RNG.standard_normal(shape)
    assert softmax(z).shape == shape
    assert log_softmax(z).shape == shape
    assert logsumexp(z).shape == shape[:-1]
    assert logsumexp(z, keepdims=True).shape == (*shape[:-1], 1)
    assert softmax_jacobian(z).shape == (*shape, 5)
    assert sigmoid(z).shape == shape


def test_axis_argument():
    """Does axis=0 give the same answer as transposing and using the last axis?"""
    z = RNG.standard_normal((4, 3))
    np.testing.assert_array_equal(softmax(z, axis=0), softmax(z.T).T)
    np.testing.assert_array_equal(log_softmax(z, axis=0), log_softmax(z.T).T)
    np.testing.assert_array_equal(logsumexp(z, axis=0), logsumexp(z.T))
    np.testing.assert_array_equal(logsumexp(z, axis=-2, keepdims=True), logsumexp(z.T)[None, :])


def test_float32_and_int_inputs_give_float64():
    """Are float32, int and bool inputs computed and returned in float64?"""
    z32 = np.array([1.5, -2.0], dtype=np.float32)
    for func in [*SOFTMAX_FAMILY, *ELEMENTWISE, softmax_jacobian]:
        assert func(z32).dtype == np.float64
        assert np.asarray(func([1, 0])).dtype == np.float64
    np.testing.assert_array_equal(softmax([True, False]), softmax([1.0, 0.0]))


def test_scalars_give_scalars():
    """Does a scalar logit give a numpy.float64 scalar for elementwise functions?"""
    for func in ELEMENTWISE:
        out = func(0.5)
        assert isinstance(out, np.float64) and np.ndim(out) == 0
    assert isinstance(logsumexp([1.0, 2.0]), np.float64)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("func", [*SOFTMAX_FAMILY, softmax_jacobian])
def test_scalar_logits_are_rejected(func):
    """Does a 0-d input (no class axis) raise a ValueError naming z?"""
    with pytest.raises(ValueError, match="z must have at least one dimension"):
        func(1.0)


@pytest.mark.parametrize("func", SOFTMAX_FAMILY)
@pytest.mark.parametrize("axis", [2, -3, 1.0, "last", True])
def test_bad_axis_is_rejected(func, axis):
    """Does an out-of-range or non-integer axis raise a ValueError naming axis?"""
    with pytest.raises(ValueError, match="axis"):
        func(np.zeros((2, 3)), axis=axis)


@pytest.mark.parametrize("func", [*SOFTMAX_FAMILY, *ELEMENTWISE, softmax_jacobian])
@pytest.mark.parametrize("bad", [["a", "b"], [1 + 2j, 0j], [[1.0, 2.0], [3.0]]])
def test_non_real_input_is_rejected(func, bad):
    """Do strings, complex numbers and ragged lists raise a ValueError naming z?"""
    with pytest.raises(ValueError, match=r"\bz\b"):
        func(bad)
