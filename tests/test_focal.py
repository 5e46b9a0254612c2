"""Tests for ``autograder.focal``: the sigmoid focal loss and its gradient.

Oracles: hand-checked values, the identity with ``sigmoid_cross_entropy`` at γ = 0,
torchvision's formula transcribed with naive NumPy on moderate logits, the SymPy
derivation (``autograder.derivations.focal_loss_grad``, evaluated in mpmath), central
differences, and torch itself where it is importable.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from autograder import derivations as D
from autograder import focal_loss, focal_loss_grad, sigmoid_cross_entropy

RNG = np.random.default_rng(20261202)
X = np.concatenate([np.linspace(-12, 12, 49), RNG.normal(size=20) * 3])
T_HARD = (RNG.uniform(size=X.size) < 0.3).astype(float)
T_SOFT = RNG.uniform(size=X.size)


def torchvision_formula(x, t, alpha=0.25, gamma=2.0):
    """torchvision.ops.sigmoid_focal_loss, transcribed naively (fine for |x| ≤ 30)."""
    p = 1 / (1 + np.exp(-x))
    ce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return loss


def test_hand_checked_values():
    """At x = 0 is the loss α_t·(1/2)^γ·log 2, and at a hard, right x = 3 is it tiny?"""
    assert focal_loss(0.0, 1.0) == pytest.approx(0.25 * 0.25 * math.log(2), rel=1e-15)
    assert focal_loss(0.0, 0.0) == pytest.approx(0.75 * 0.25 * math.log(2), rel=1e-15)
    s = 1 / (1 + math.exp(-3.0))  # σ(3): right with probability 0.9526
    assert focal_loss(3.0, 1.0, alpha=-1) == pytest.approx((1 - s) ** 2 * -math.log(s), 1e-14)


@pytest.mark.parametrize("alpha", [0.25, 0.5, 0.9, -1.0])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 5.0])
@pytest.mark.parametrize("target", [T_HARD, T_SOFT])
def test_matches_torchvision_formula(alpha, gamma, target):
    """Does it equal torchvision's formula on moderate logits, soft targets included?"""
    got = focal_loss(X, target, alpha=alpha, gamma=gamma)
    # The naive 1 − p of the transcription loses about e^|x|·ε relative at |x| ≤ 12.
    np.testing.assert_allclose(got, torchvision_formula(X, target, alpha, gamma), rtol=1e-9)


def test_gamma_zero_without_alpha_is_sigmoid_cross_entropy():
    """With γ = 0 and α < 0, is it exactly the sigmoid cross-entropy, huge logits included?"""
    x = np.concatenate([X, [-1e4, -800.0, 800.0, 1e4]])
    t = np.concatenate([T_HARD, [0.0, 1.0, 0.0, 1.0]])
    np.testing.assert_array_equal(
        focal_loss(x, t, alpha=-1.0, gamma=0.0), sigmoid_cross_entropy(x, t, reduction="none")
    )


def test_extreme_logits_are_finite_and_exact():
    """Far-wrong logits cost α_t·|x| (no overflow); far-right ones cost 0, not NaN."""
    got = focal_loss([-800.0, 800.0, 800.0, -800.0], [1.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(got, [0.25 * 800.0, 0.75 * 800.0, 0.0, 0.0])
    assert np.all(np.isfinite(focal_loss_grad([-1e4, 1e4, np.inf], [1.0, 1.0, 1.0])))


def test_easy_examples_are_down_weighted():
    """Does raising γ cut an easy example's loss by far more than a hard one's?"""
    easy, hard = 4.0, -1.0  # logits for a positive example
    ratio = [focal_loss(v, 1.0, gamma=2.0) / focal_loss(v, 1.0, gamma=0.0) for v in (easy, hard)]
    assert ratio[0] < 1e-3 < 0.5 < ratio[1]


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_reductions(reduction):
    """Do "mean" and "sum" reduce the "none" values as torchvision does?"""
    per = focal_loss(X, T_SOFT)
    want = {"none": per, "mean": per.mean(), "sum": per.sum()}[reduction]
    np.testing.assert_allclose(focal_loss(X, T_SOFT, reduction=reduction), want, rtol=1e-13)
    g = focal_loss_grad(X, T_SOFT, reduction=reduction)
    scale = 1 / X.size if reduction == "mean" else 1.0
    np.testing.assert_allclose(g, focal_loss_grad(X, T_SOFT) * scale, rtol=1e-13)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 3.5])
@pytest.mark.parametrize("alpha", [0.25, -1.0])
def test_gradient_equals_sympy_derivation(gamma, alpha):
    """Does focal_loss_grad equal the SymPy derivative evaluated in mpmath at 50 digits?"""
    expr = D.focal_loss_grad().subs(D.gamma, gamma)
    # α < 0 means no weighting: α = 1/2 gives α_t = 1/2 for every target, so double it.
    expr = expr.subs(D.alpha, alpha) if alpha >= 0 else 2 * expr.subs(D.alpha, sp.S.Half)
    expr = expr.rewrite(sp.exp)
    f = sp.lambdify([D.z, D.y], expr, modules="mpmath")
    for target in (T_HARD, T_SOFT):
        with mpmath.workdps(50):
            pairs = zip(X, target, strict=True)
            exact = np.array([float(f(mpmath.mpf(a), mpmath.mpf(b))) for a, b in pairs])
        got = focal_loss_grad(X, target, alpha=alpha, gamma=gamma)
        np.testing.assert_allclose(got, exact, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_gradient_matches_central_differences(gamma):
    """Does the gradient match (L(x + h) − L(x − h)) / 2h of the loss itself?"""
    h = 1e-6
    for target in (T_HARD, T_SOFT):
        fd = (focal_loss(X + h, target, gamma=gamma) - focal_loss(X - h, target, gamma=gamma)) / (
            2 * h
        )
        np.testing.assert_allclose(focal_loss_grad(X, target, gamma=gamma), fd, atol=1e-8)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": 1.5}, "alpha must be at most 1"),
        ({"alpha": float("nan")}, "alpha must be at most 1"),
        ({"gamma": -1.0}, "gamma must be a finite number >= 0"),
        ({"gamma": "two"}, "alpha and gamma must be real numbers"),
        ({"reduction": "avg"}, "reduction must be one of"),
    ],
)
def test_bad_options_raise_naming_the_argument(kwargs, match):
    """Is each bad option a ValueError that names it?"""
    with pytest.raises(ValueError, match=match):
        focal_loss(X, T_HARD, **kwargs)
    with pytest.raises(ValueError, match=match):
        focal_loss_grad(X, T_HARD, **kwargs)


def test_target_outside_the_unit_interval_raises():
    """Is a target of 1.5 or −0.5 refused, naming ``target``, rather than a silent 0?"""
    for bad in (1.5, -0.5):
        with pytest.raises(ValueError, match="target must hold values in"):
            focal_loss([1.0], [bad])
        with pytest.raises(ValueError, match="target must hold values in"):
            focal_loss_grad([1.0], [bad])


def test_shape_mismatch_raises():
    """Are logits and target of different shapes refused, naming both?"""
    with pytest.raises(ValueError, match="logits and target must have the same shape"):
        focal_loss(np.zeros(3), np.zeros(4))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_matches_torch_where_available(reduction):
    """Where torch is importable, do loss and gradient equal torchvision's formula in torch?"""
    torch = pytest.importorskip("torch", reason="torch is an optional cross-check")
    tx = torch.tensor(X, requires_grad=True)
    tt = torch.tensor(T_SOFT)
    p = torch.sigmoid(tx)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(tx, tt, reduction="none")
    p_t = p * tt + (1 - p) * (1 - tt)
    loss = (0.25 * tt + 0.75 * (1 - tt)) * ce * (1 - p_t) ** 2
    loss = {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
    loss.sum().backward()
    np.testing.assert_allclose(focal_loss(X, T_SOFT, reduction=reduction), loss.detach(), 1e-12)
    np.testing.assert_allclose(focal_loss_grad(X, T_SOFT, reduction=reduction), tx.grad, 1e-11)
