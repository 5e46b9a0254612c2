"""Tests for joint entropy, conditional entropy and mutual information of ``joint[x, y]``.

Oracles: tables whose values are known by hand (independent, identical, deterministic),
the chain rules H(X, Y) = H(X) + H(Y | X) and I(X; Y) = H(Y) − H(Y | X) checked with the
one-variable ``entropy``, I = KL(joint ‖ p(x)p(y)) with ``kl_divergence``, and mpmath
(``tests/test_accuracy_beyond.py`` for ULP accuracy).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograder import (
    conditional_entropy,
    entropy,
    joint_entropy,
    kl_divergence,
    mutual_information,
)

RNG = np.random.default_rng(20261202)
TABLES = [RNG.dirichlet(np.ones(x * y)).reshape(x, y) for x, y in [(2, 2), (3, 4), (5, 2)]]


def test_two_fair_independent_coins():
    """Two fair coins: H(X, Y) = 2 bits, H(Y | X) = 1 bit, I = 0?"""
    j = np.full((2, 2), 0.25)
    assert joint_entropy(j, base=2) == 2.0
    assert conditional_entropy(j, base=2) == 1.0
    assert mutual_information(j) == 0.0


def test_identical_variables():
    """Y = X uniform on 4 values: H(Y | X) = 0 and I = H(X) = 2 bits?"""
    j = np.eye(4) / 4
    assert conditional_entropy(j) == 0.0
    assert mutual_information(j, base=2) == pytest.approx(2.0, rel=1e-15)
    assert joint_entropy(j, base=2) == pytest.approx(2.0, rel=1e-15)


def test_hand_checked_table():
    """p = [[1/2, 1/4], [0, 1/4]]: H(Y | X) = (3/4)·h(1/3), by hand?"""
    j = np.array([[0.5, 0.25], [0.0, 0.25]])
    h = -(1 / 3) * math.log(1 / 3) - (2 / 3) * math.log(2 / 3)
    assert conditional_entropy(j) == pytest.approx(0.75 * h, rel=1e-15)
    # I = H(Y) − H(Y|X) with p(y) = (1/2, 1/2)
    assert mutual_information(j) == pytest.approx(math.log(2) - 0.75 * h, rel=1e-14)


@pytest.mark.parametrize("j", TABLES)
def test_chain_rules(j):
    """Do H(X,Y) = H(X) + H(Y|X) and I = H(Y) − H(Y|X) = KL(joint ‖ p(x)p(y)) hold?"""
    px, py = j.sum(axis=1), j.sum(axis=0)
    assert joint_entropy(j) == pytest.approx(entropy(px) + conditional_entropy(j), rel=1e-14)
    assert mutual_information(j) == pytest.approx(
        entropy(py) - conditional_entropy(j), rel=1e-12, abs=1e-15
    )
    kl = kl_divergence(j.ravel(), np.outer(px, py).ravel())
    assert mutual_information(j) == pytest.approx(kl, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("j", TABLES)
def test_symmetry_of_mutual_information(j):
    """Is I(X; Y) = I(Y; X) (the transposed table)?"""
    assert mutual_information(j) == pytest.approx(mutual_information(j.T), rel=1e-13, abs=1e-16)


def test_batch_axes():
    """Do leading axes act as a batch, giving one value per table?"""
    batch = np.stack([TABLES[0], np.full((2, 2), 0.25)])
    for f in (joint_entropy, conditional_entropy, mutual_information):
        got = f(batch)
        assert got.shape == (2,)
        assert got[0] == f(TABLES[0])
        assert got[1] == f(batch[1])


def test_zeros_are_exact():
    """Are zero cells 0·log 0 = 0 (no NaN), even a whole zero row?"""
    j = np.array([[0.0, 0.0], [0.5, 0.5]])
    assert conditional_entropy(j) == pytest.approx(math.log(2))
    assert mutual_information(j) == 0.0
    assert joint_entropy(j) == pytest.approx(math.log(2))


def test_nearly_determined_conditional_entropy_keeps_its_digits():
    """Rows [1 − ε, ε]: is H(Y|X) ≈ ε(1 − log ε), where H(X,Y) − H(X) loses it all?"""
    eps = 1e-12
    j = np.array([[0.5 * (1 - eps), 0.5 * eps], [0.5 * eps, 0.5 * (1 - eps)]])
    want = -(1 - eps) * math.log1p(-eps) - eps * math.log(eps)  # by hand, per row
    assert conditional_entropy(j) == pytest.approx(want, rel=1e-12)


def test_marginals_whose_product_underflows():
    """Is a cell with p(x) = p(y) = p(x, y) = 1e-200 worth p·log(1/p), not inf?

    p(x)p(y) = 1e-400 underflows in float64; the exact term is 1e-200 · ln(1e200).
    """
    j = np.array([[1e-200, 0.0], [0.0, 1.0 - 1e-200]])
    want = 1e-200 * 200 * math.log(10)  # the other cell's term is 0 (p = p(x)p(y) = 1)
    assert mutual_information(j) == pytest.approx(want, rel=1e-14)


def test_nan_propagates():
    """Does a NaN cell give NaN, as the one-variable functions do?"""
    j = np.array([[0.5, np.nan], [0.25, 0.25]])
    for f in (joint_entropy, conditional_entropy, mutual_information):
        assert np.isnan(f(j))


@pytest.mark.parametrize(
    ("joint", "match"),
    [
        ([0.5, 0.5], "joint must have at least 2 axes"),
        ([[0.5, 1.5]], "joint must be probabilities"),
        ([["a", "b"]], "joint must hold real numbers"),
    ],
)
def test_bad_joint_raises(joint, match):
    """Is a bad table a ValueError naming ``joint``?"""
    for f in (joint_entropy, conditional_entropy, mutual_information):
        with pytest.raises(ValueError, match=match):
            f(joint)


def test_bad_base_raises():
    """Is base = 1 refused?"""
    with pytest.raises(ValueError, match="base must be"):
        mutual_information(TABLES[0], base=1)
