"""Tests for autograder.information: known values, identities, conventions and errors.

Oracles are closed forms checkable by hand (log 2, log(5/3), ...) and ``math`` functions;
the mpmath accuracy grid is in ``test_accuracy.py``.
"""

import math

import numpy as np
import pytest

from autograder.information import (
    binary_entropy,
    cross_entropy,
    entropy,
    kl_divergence,
    self_information,
)

RNG = np.random.default_rng(7)
LN2 = math.log(2.0)


def random_distributions(n: int, c: int) -> np.ndarray:
    """n random probability vectors of length c (rows sum to 1 up to rounding)."""
    x = RNG.random((n, c))
    return x / x.sum(axis=-1, keepdims=True)


def is_positive_zero(x) -> bool:
    """True for +0.0 only (not −0.0, which prints as "-0.0" in a notebook)."""
    return x == 0 and math.copysign(1.0, x) == 1.0


# ---------------------------------------------------------------- self-information


def test_self_information_known_values():
    """Is I(1) = 0, I(1/2) = 1 bit = log 2 nats, I(1/4) = 2 bits and I(0.01) = 2 bans?"""
    np.testing.assert_array_equal(self_information([1.0, 0.5, 0.25], base=2), [0.0, 1.0, 2.0])
    assert self_information(0.5) == LN2
    assert self_information(0.01, base=10) == pytest.approx(2.0, rel=1e-15)
    assert is_positive_zero(self_information(1.0))


def test_self_information_of_impossible_event_is_infinite():
    """Is the surprisal of a probability-0 event +inf, without a warning?"""
    with np.errstate(divide="raise"):
        assert self_information(0.0) == np.inf


def test_rarer_events_carry_more_information():
    """Is I(p) strictly decreasing in p (the long shot surprises more than the favourite)?"""
    p = np.linspace(0.01, 1.0, 100)
    assert np.all(np.diff(self_information(p)) < 0)


# ---------------------------------------------------------------- entropy


def test_entropy_known_values():
    """Is a fair coin 1 bit, a fair 4-sided die 2 bits, and a one-hot row exactly +0?"""
    assert entropy([0.5, 0.5]) == LN2
    assert entropy([0.5, 0.5], base=2) == 1.0
    assert entropy(np.full(4, 0.25), base=2) == 2.0
    assert is_positive_zero(entropy([0.0, 1.0, 0.0]))
    assert is_positive_zero(entropy([1.0]))


def test_zero_probabilities_contribute_nothing():
    """Is 0 · log 0 taken as 0, so that adding impossible classes changes nothing?"""
    assert entropy([0.5, 0.0, 0.5, 0.0]) == LN2
    with np.errstate(divide="raise", invalid="raise"):
        entropy([0.0, 1.0])


def test_entropy_does_not_renormalise():
    """Does entropy([1/2, 1/2, 1/2]) give 3/2 · log 2, not log 3 (as scipy.stats would)?"""
    assert entropy([0.5, 0.5, 0.5]) == pytest.approx(1.5 * LN2, rel=1e-15)


def test_entropy_is_at_most_log_c():
    """Is H(p) ≤ log C for random distributions, with equality for the uniform one?"""
    p = random_distributions(50, 6)
    assert np.all(entropy(p) <= math.log(6) + 1e-15)
    assert entropy(np.full(6, 1 / 6)) == pytest.approx(math.log(6), rel=1e-15)


def test_entropy_base_conversion():
    """Is H in bits equal to H in nats divided by log 2, and in bans by log 10?"""
    p = random_distributions(10, 5)
    np.testing.assert_allclose(entropy(p, base=2), entropy(p) / LN2, rtol=1e-15)
    np.testing.assert_allclose(entropy(p, base=10), entropy(p) / math.log(10), rtol=1e-15)


def test_entropy_axis_and_shapes():
    """Do (C,), (1, C), (N, C) and axis=0 inputs reduce over the intended axis?"""
    p = random_distributions(4, 3)
    assert np.ndim(entropy(p[0])) == 0
    assert entropy(p[:1]).shape == (1,)
    assert entropy(p).shape == (4,)
    np.testing.assert_array_equal(entropy(p.T, axis=0), entropy(p))
    np.testing.assert_array_equal(entropy(np.stack([p, p])), np.stack([entropy(p)] * 2))


def test_entropy_of_empty_class_axis_is_zero():
    """Is the entropy over zero classes the empty sum 0, and an empty batch empty?"""
    np.testing.assert_array_equal(entropy(np.zeros((2, 0))), [0.0, 0.0])
    assert entropy(np.zeros((0, 3))).shape == (0,)


# ---------------------------------------------------------------- binary entropy


def test_binary_entropy_known_values():
    """Is H_b(1/2) = 1 bit, H_b(0) = H_b(1) = 0, and H_b(1/4) = 2 − (3/4)·log2 3 bits?"""
    np.testing.assert_array_equal(binary_entropy([0.0, 0.5, 1.0], base=2), [0.0, 1.0, 0.0])
    assert binary_entropy(0.25, base=2) == pytest.approx(2 - 0.75 * math.log2(3), rel=1e-15)
    assert binary_entropy(0.5) == LN2


def test_binary_entropy_is_symmetric_and_matches_entropy():
    """Is H_b(p) = H_b(1 − p) = entropy([p, 1 − p]) for moderate p?"""
    p = np.linspace(0.01, 0.99, 99)
    np.testing.assert_allclose(binary_entropy(p), binary_entropy(1 - p), rtol=1e-14)
    np.testing.assert_allclose(binary_entropy(p), entropy(np.stack([p, 1 - p], -1)), rtol=1e-15)


def test_binary_entropy_for_tiny_p():
    """Is H_b(1e−20) = p(1 − log p) to full precision, not just −p log p (log(1 − p) = 0)?"""
    p = 1e-20
    # −(1 − p)·log1p(−p) = p − p²/2 + …, so H_b = p(1 − log p) + O(p²).
    assert binary_entropy(p) == pytest.approx(p * (1 - math.log(p)), rel=1e-15)


# ---------------------------------------------------------------- KL divergence


def test_kl_known_pairs():
    """Are D([½, ½]‖[0.9, 0.1]) = log(5/3) and D([0.9, 0.1]‖[½, ½]) = 0.9 log 1.8 + 0.1 log 0.2?"""
    assert kl_divergence([0.5, 0.5], [0.9, 0.1]) == pytest.approx(math.log(5 / 3), rel=1e-15)
    expected = 0.9 * math.log(1.8) + 0.1 * math.log(0.2)
    assert kl_divergence([0.9, 0.1], [0.5, 0.5]) == pytest.approx(expected, rel=1e-15)


def test_kl_is_asymmetric():
    """Is D(p‖q) ≠ D(q‖p) in general?"""
    p, q = [0.5, 0.5], [0.9, 0.1]
    assert abs(kl_divergence(p, q) - kl_divergence(q, p)) > 0.1


def test_kl_of_a_distribution_with_itself_is_exactly_zero():
    """Is D(p‖p) exactly +0 for random rows, including rows with zeros?"""
    p = random_distributions(20, 7)
    p[0, 3] = 0.0
    out = kl_divergence(p, p)
    np.testing.assert_array_equal(out, 0.0)
    assert all(is_positive_zero(x) for x in out)


def test_gibbs_inequality():
    """Is D(p‖q) ≥ 0 for random normalised p and q?"""
    p, q = random_distributions(100, 4), random_distributions(100, 4)
    assert np.all(kl_divergence(p, q) >= 0)


def test_kl_zero_and_infinite_terms():
    """Is a p = 0 term 0 (even where q = 0) and a q = 0 < p term +inf, without warnings?"""
    with np.errstate(divide="raise", invalid="raise"):
        assert kl_divergence([0.0, 1.0], [0.0, 1.0]) == 0.0
        assert kl_divergence([0.0, 1.0], [0.5, 0.5]) == LN2
        assert kl_divergence([0.5, 0.5], [0.0, 1.0]) == np.inf


def test_kl_near_equal_distributions():
    """Is D(p‖q) ≈ Σ (p − q)²/(2q) for nearly equal p, q, and positive?

    The second-order expansion is accurate to O(δ³); the naive Σ p(log p − log q) would
    have a relative error near 1e-4 here (notes/numerics.md).
    """
    q = np.array([0.2, 0.3, 0.5])
    delta = np.array([1e-7, -3e-7, 2e-7])
    p = q + delta
    approx = np.sum(delta**2 / (2 * q)) - np.sum(delta**3 / (6 * q**2))
    assert kl_divergence(p, q) == pytest.approx(approx, rel=1e-6)
    assert kl_divergence(p, q) > 0


def test_kl_base_two():
    """Is D([½, ½]‖[¼, ¾]) in bits equal to the nats value over log 2?"""
    nats = kl_divergence([0.5, 0.5], [0.25, 0.75])
    assert kl_divergence([0.5, 0.5], [0.25, 0.75], base=2) == pytest.approx(nats / LN2, rel=1e-15)


# ---------------------------------------------------------------- cross-entropy


def test_cross_entropy_worked_examples():
    """Do the chapter's 3-class examples give log 2 = 0.693 nats (0.301 bans) and −log 0.8?"""
    target = [1.0, 0.0, 0.0]
    assert cross_entropy(target, [0.5, 0.4, 0.1]) == LN2
    assert cross_entropy(target, [0.5, 0.4, 0.1], base=10) == pytest.approx(0.30103, abs=5e-6)
    assert cross_entropy(target, [0.8, 0.1, 0.1]) == -math.log(0.8)


def test_cross_entropy_ranks_confident_right_answers_lowest():
    """With target class 0 of 5, is −log 0.6 < −log 0.3 < −log 0.1?"""
    target = np.eye(5)[[0, 0, 0]]
    q = np.array([[0.6, 0.1, 0.1, 0.1, 0.1], [0.3, 0.4, 0.1, 0.1, 0.1], [0.1, 0.6, 0.1, 0.1, 0.1]])
    out = cross_entropy(target, q)
    np.testing.assert_array_equal(out, -np.log([0.6, 0.3, 0.1]))


def test_cross_entropy_is_entropy_plus_kl():
    """Is H(p, q) = H(p) + D(p‖q) for random rows, and H(p, p) = H(p)?"""
    p, q = random_distributions(30, 5), random_distributions(30, 5)
    np.testing.assert_allclose(cross_entropy(p, q), entropy(p) + kl_divergence(p, q), rtol=1e-15)
    np.testing.assert_allclose(cross_entropy(p, p), entropy(p), rtol=1e-15)


def test_cross_entropy_zero_and_infinite_terms():
    """Is 0 · log 0 = 0 (a class the target never takes is free) and q = 0 < p infinite?"""
    with np.errstate(divide="raise", invalid="raise"):
        assert cross_entropy([1.0, 0.0], [1.0, 0.0]) == 0.0
        assert cross_entropy([0.5, 0.5], [1.0, 0.0]) == np.inf


# ---------------------------------------------------------------- NaN, dtypes, shapes


@pytest.mark.parametrize(
    "call",
    [
        lambda x: self_information(x),
        lambda x: binary_entropy(x),
        lambda x: entropy(np.stack([x, x], -1)),
        lambda x: kl_divergence(np.stack([x, x], -1), np.full((2, 2), 0.5)),
        lambda x: kl_divergence(np.full((2, 2), 0.5), np.stack([x, x], -1)),
        lambda x: cross_entropy(np.stack([x, x], -1), np.full((2, 2), 0.5)),
        lambda x: cross_entropy(np.full((2, 2), 0.5), np.stack([x, x], -1)),
    ],
)
def test_nan_propagates(call):
    """Does a NaN probability give NaN in its own result only?"""
    out = call(np.array([np.nan, 0.5]))
    assert np.isnan(out[0]) and not np.isnan(out[1])


def test_nan_q_is_not_hidden_by_p_zero():
    """Is D(p‖q) NaN when q is NaN even where p = 0 (NaN is never silently dropped)?"""
    assert np.isnan(kl_divergence([0.0, 1.0], [np.nan, 1.0]))
    assert np.isnan(cross_entropy([0.0, 1.0], [np.nan, 1.0]))


def test_float32_input_gives_float64():
    """Are float32 probabilities computed and returned in float64?"""
    p = np.array([0.25, 0.75], dtype=np.float32)
    assert self_information(p).dtype == np.float64
    assert binary_entropy(p).dtype == np.float64
    for value in [entropy(p), kl_divergence(p, p), cross_entropy(p, p)]:
        assert isinstance(value, np.float64)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("bad", [1.5, -0.1, np.inf, -np.inf])
def test_out_of_range_p_is_rejected(bad):
    """Does a probability outside [0, 1] raise a ValueError naming p?"""
    for call in [
        lambda: self_information([bad]),
        lambda: binary_entropy([bad]),
        lambda: entropy([bad, 0.5]),
        lambda: kl_divergence([bad, 0.5], [0.5, 0.5]),
        lambda: cross_entropy([bad, 0.5], [0.5, 0.5]),
    ]:
        with pytest.raises(ValueError, match=r"^p must be probabilities"):
            call()


@pytest.mark.parametrize("func", [kl_divergence, cross_entropy])
def test_out_of_range_q_is_rejected(func):
    """Does a q outside [0, 1] raise a ValueError naming q?"""
    with pytest.raises(ValueError, match=r"^q must be probabilities"):
        func([0.5, 0.5], [1.5, -0.5])


@pytest.mark.parametrize("func", [kl_divergence, cross_entropy])
def test_shape_mismatch_is_rejected(func):
    """Do p and q of different shapes (no broadcasting) raise a ValueError naming both?"""
    with pytest.raises(ValueError, match="p and q must have the same shape"):
        func(np.full((2, 2), 0.5), [0.5, 0.5])


@pytest.mark.parametrize("base", [1, 0, -2, "two", np.inf, np.nan])
def test_bad_base_is_rejected(base):
    """Does a base that is not a positive number ≠ 1 raise a ValueError naming base?"""
    for call in [
        lambda: self_information(0.5, base=base),
        lambda: entropy([0.5, 0.5], base=base),
        lambda: binary_entropy(0.5, base=base),
        lambda: kl_divergence([0.5, 0.5], [0.5, 0.5], base=base),
        lambda: cross_entropy([0.5, 0.5], [0.5, 0.5], base=base),
    ]:
        with pytest.raises(ValueError, match="base"):
            call()


@pytest.mark.parametrize("func", [entropy, lambda p: kl_divergence(p, p)])
def test_scalar_distribution_is_rejected(func):
    """Does a 0-d p (no class axis) raise a ValueError naming p?"""
    with pytest.raises(ValueError, match="p must have at least one dimension"):
        func(0.5)


def test_bad_axis_is_rejected():
    """Does an out-of-range axis raise a ValueError naming axis?"""
    with pytest.raises(ValueError, match="axis"):
        entropy([0.5, 0.5], axis=1)
    with pytest.raises(ValueError, match="axis"):
        cross_entropy([0.5, 0.5], [0.5, 0.5], axis=-2)


def test_non_numeric_input_is_rejected():
    """Do strings and complex numbers raise a ValueError naming the argument?"""
    with pytest.raises(ValueError, match=r"^p must hold real numbers"):
        entropy(["a", "b"])
    with pytest.raises(ValueError, match=r"^q must hold real numbers"):
        kl_divergence([0.5, 0.5], [0.5 + 0j, 0.5])
