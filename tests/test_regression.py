"""Tests for autograder/regression.py: L2, L1, smooth L1, Huber and their gradients.

Expected values are hand-computed (small integers and halves, exact in binary), derived
independently with SymPy, or estimated by central differences; never produced by the
code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from autograder.regression import (
    huber_loss,
    huber_loss_grad,
    l1_loss,
    l1_loss_grad,
    mse_loss,
    mse_loss_grad,
    smooth_l1_loss,
    smooth_l1_loss_grad,
)

LOSSES = {
    "mse": (mse_loss, mse_loss_grad, {}),
    "l1": (l1_loss, l1_loss_grad, {}),
    "smooth_l1": (smooth_l1_loss, smooth_l1_loss_grad, {"beta": 1.0}),
    "huber": (huber_loss, huber_loss_grad, {"delta": 1.0}),
}

# Residuals d = input − target chosen to hit every piece: inside the quadratic zone,
# beyond it, exactly at the kink ±1, and 0.
INPUT = np.array([[0.5, -3.0, 1.0], [0.0, -1.0, 2.25]])
TARGET = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.25]])
# d = [[0.5, -3, 1], [0, -1, 2]]; per-element losses worked out by hand:
HAND = {
    "mse": [[0.25, 9.0, 1.0], [0.0, 1.0, 4.0]],
    "l1": [[0.5, 3.0, 1.0], [0.0, 1.0, 2.0]],
    "smooth_l1": [[0.125, 2.5, 0.5], [0.0, 0.5, 1.5]],
    "huber": [[0.125, 2.5, 0.5], [0.0, 0.5, 1.5]],
}
HAND_GRAD = {  # per-element derivatives (reduction="none"/"sum")
    "mse": [[1.0, -6.0, 2.0], [0.0, -2.0, 4.0]],
    "l1": [[1.0, -1.0, 1.0], [0.0, -1.0, 1.0]],
    "smooth_l1": [[0.5, -1.0, 1.0], [0.0, -1.0, 1.0]],
    "huber": [[0.5, -1.0, 1.0], [0.0, -1.0, 1.0]],
}


@pytest.mark.parametrize("name", LOSSES)
def test_hand_values_every_reduction(name):
    """Do none / sum / mean give the hand-computed per-element values, total and average?"""
    loss, _, opts = LOSSES[name]
    hand = np.array(HAND[name])
    np.testing.assert_array_equal(loss(INPUT, TARGET, reduction="none", **opts), hand)
    assert loss(INPUT, TARGET, reduction="sum", **opts) == hand.sum()
    assert loss(INPUT, TARGET, **opts) == pytest.approx(hand.sum() / 6, rel=1e-15)


@pytest.mark.parametrize("name", LOSSES)
def test_hand_gradients_every_reduction(name):
    """Do the gradients match the hand derivatives, divided by n only for "mean"?"""
    _, grad, opts = LOSSES[name]
    hand = np.array(HAND_GRAD[name])
    for reduction in ("none", "sum"):
        g = grad(INPUT, TARGET, reduction=reduction, **opts)
        np.testing.assert_array_equal(g, hand)
    np.testing.assert_allclose(grad(INPUT, TARGET, **opts), hand / 6, rtol=1e-15)


@pytest.mark.parametrize("name", LOSSES)
def test_return_types_and_shapes(name):
    """Are scalars float64, "none" the input's shape, and float32 input computed in float64?"""
    loss, grad, opts = LOSSES[name]
    x32 = INPUT.astype(np.float32)
    out = loss(x32, TARGET, **opts)
    assert isinstance(out, np.float64)
    assert loss(x32, TARGET, reduction="none", **opts).dtype == np.float64
    g = grad(x32, TARGET, **opts)
    assert g.shape == INPUT.shape and g.dtype == np.float64
    assert loss(2.5, 1.0, reduction="none", **opts).shape == ()
    assert grad([3], [1], **opts).shape == (1,)  # integer lists are accepted


@pytest.mark.parametrize("name", LOSSES)
def test_empty_input(name):
    """Does an empty batch give NaN for "mean" and 0 for "sum", as in PyTorch?"""
    loss, grad, opts = LOSSES[name]
    empty = np.zeros((0, 3))
    assert np.isnan(loss(empty, empty, **opts))
    assert loss(empty, empty, reduction="sum", **opts) == 0.0
    assert grad(empty, empty, **opts).shape == (0, 3)


@pytest.mark.parametrize("name", LOSSES)
def test_nan_propagates(name):
    """Does a NaN in input or target give NaN loss and NaN gradient in that element only?"""
    loss, grad, opts = LOSSES[name]
    x = np.array([np.nan, 0.5, 2.0])
    t = np.array([0.0, 0.0, np.nan])
    per = loss(x, t, reduction="none", **opts)
    assert np.isnan(per[0]) and np.isnan(per[2]) and np.isfinite(per[1])
    assert np.isnan(loss(x, t, **opts))
    g = grad(x, t, **opts)
    assert np.isnan(g[0]) and np.isnan(g[2]) and np.isfinite(g[1])


@pytest.mark.parametrize("name", LOSSES)
def test_gradient_matches_central_differences(name):
    """Does each gradient agree with central differences of its loss, for every reduction?"""
    loss, grad, opts = LOSSES[name]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3)) * 2
    t = rng.normal(size=(4, 3))
    # Keep clear of the kinks, where a difference quotient straddles two pieces.
    x[np.abs(np.abs(x - t) - 1.0) < 1e-3] += 0.01
    h = 1e-6
    for reduction in ("mean", "sum"):
        num = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[i] = h
            hi = loss(x + e, t, reduction=reduction, **opts)
            lo = loss(x - e, t, reduction=reduction, **opts)
            num[i] = (hi - lo) / (2 * h)
        np.testing.assert_allclose(grad(x, t, reduction=reduction, **opts), num, atol=1e-8)


def _sympy_piecewise(kind: str, k: float):
    """Independent SymPy model of a per-element loss, and its derivative as a function."""
    d = sp.Symbol("d", real=True)
    b = sp.Symbol("b", positive=True)  # a symbol, so lambdify prints no rounded constants
    if kind == "smooth_l1":
        expr = sp.Piecewise((d**2 / (2 * b), sp.Abs(d) < b), (sp.Abs(d) - b / 2, True))
    else:
        expr = sp.Piecewise((d**2 / 2, sp.Abs(d) < b), (b * (sp.Abs(d) - b / 2), True))
    f = sp.lambdify((d, b), expr, "math")
    df = sp.lambdify((d, b), sp.diff(expr, d), "math")
    return (lambda v: f(v, k)), (lambda v: df(v, k))


@pytest.mark.parametrize("kind", ["smooth_l1", "huber"])
@pytest.mark.parametrize("k", [0.25, 1.0, 3.0])
def test_against_sympy_piecewise(kind, k):
    """Do value and gradient match SymPy's derivative of the textbook piecewise formula?"""
    f, df = _sympy_piecewise(kind, k)
    d = np.array([-7.0, -k - 0.1, -k / 2, -1e-3, 1e-3, 0.3 * k, k + 0.1, 11.0])
    if kind == "smooth_l1":
        val = smooth_l1_loss(d, np.zeros_like(d), beta=k, reduction="none")
        grd = smooth_l1_loss_grad(d, np.zeros_like(d), beta=k, reduction="none")
    else:
        val = huber_loss(d, np.zeros_like(d), delta=k, reduction="none")
        grd = huber_loss_grad(d, np.zeros_like(d), delta=k, reduction="none")
    np.testing.assert_allclose(val, [f(v) for v in d], rtol=1e-15)
    np.testing.assert_allclose(grd, [float(df(v)) for v in d], rtol=1e-15)


@pytest.mark.parametrize("k", [0.5, 1.0, 2.0, 4.0])
def test_residual_exactly_at_the_kink(k):
    """At |d| exactly beta (delta), are both pieces equal and the gradient the outer one?"""
    d = np.array([-k, k])
    z = np.zeros(2)
    np.testing.assert_array_equal(smooth_l1_loss(d, z, beta=k, reduction="none"), [k / 2] * 2)
    np.testing.assert_array_equal(huber_loss(d, z, delta=k, reduction="none"), [k * k / 2] * 2)
    np.testing.assert_array_equal(smooth_l1_loss_grad(d, z, beta=k, reduction="sum"), [-1, 1])
    np.testing.assert_array_equal(huber_loss_grad(d, z, delta=k, reduction="sum"), [-k, k])


def test_subgradient_zero_at_the_kink_of_abs():
    """Is the gradient exactly 0 (not ±1, not NaN) where d = 0, for L1, smooth L1, Huber?"""
    x = np.array([0.0, -0.0, 3.0])
    t = np.array([0.0, 0.0, 3.0])
    for g in (
        l1_loss_grad(x, t),
        smooth_l1_loss_grad(x, t),
        smooth_l1_loss_grad(x, t, beta=0.0),
        huber_loss_grad(x, t),
    ):
        np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])


def test_beta_zero_is_l1_without_nan():
    """With beta = 0, is smooth L1 bitwise equal to L1, with no NaN gradient (pytorch#96813)?"""
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(size=20), [0.0, 1e-300, -1e-300]])
    t = np.concatenate([rng.normal(size=20), [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(
        smooth_l1_loss(x, t, beta=0.0, reduction="none"), l1_loss(x, t, reduction="none")
    )
    g = smooth_l1_loss_grad(x, t, beta=0.0)
    np.testing.assert_array_equal(g, l1_loss_grad(x, t))
    assert not np.any(np.isnan(g))


def test_huber_is_delta_times_smooth_l1():
    """Is huber(delta) = delta · smooth_l1(beta = delta), exactly for powers of two?"""
    rng = np.random.default_rng(2)
    x = rng.normal(size=200) * 5
    t = rng.normal(size=200)
    for delta in (0.25, 1.0, 8.0):  # powers of two: every product is exact
        np.testing.assert_array_equal(
            huber_loss(x, t, delta=delta, reduction="none"),
            delta * smooth_l1_loss(x, t, beta=delta, reduction="none"),
        )
        np.testing.assert_array_equal(
            huber_loss_grad(x, t, delta=delta), delta * smooth_l1_loss_grad(x, t, beta=delta)
        )
    for delta in (0.3, 1.7):
        np.testing.assert_allclose(
            huber_loss(x, t, delta=delta, reduction="none"),
            delta * smooth_l1_loss(x, t, beta=delta, reduction="none"),
            rtol=4e-16,
        )


def test_mse_overflows_where_huber_does_not():
    """With residuals of 1e154, does MSE overflow to inf while Huber stays finite and exact?"""
    x = np.array([1e154, -2e154])
    t = np.zeros(2)
    assert mse_loss(x, t) == np.inf  # 1e308 + 4e308 exceeds the float64 range
    assert huber_loss(x, t, reduction="sum") == 3e154  # the −½ vanishes in rounding
    assert smooth_l1_loss(x, t) == 1.5e154
    np.testing.assert_array_equal(huber_loss_grad(x, t, reduction="sum"), [1.0, -1.0])
    np.testing.assert_array_equal(mse_loss_grad(x, t, reduction="sum"), [2e154, -4e154])


def test_infinite_residuals():
    """Do infinite residuals give infinite losses and bounded (or infinite, for MSE) gradients?"""
    x = np.array([np.inf, -np.inf])
    t = np.zeros(2)
    np.testing.assert_array_equal(l1_loss(x, t, reduction="none"), [np.inf, np.inf])
    np.testing.assert_array_equal(huber_loss(x, t, reduction="none"), [np.inf, np.inf])
    np.testing.assert_array_equal(huber_loss_grad(x, t, reduction="sum"), [1.0, -1.0])
    np.testing.assert_array_equal(smooth_l1_loss_grad(x, t, reduction="sum"), [1.0, -1.0])
    np.testing.assert_array_equal(mse_loss_grad(x, t, reduction="sum"), [np.inf, -np.inf])


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("name", LOSSES)
def test_shape_mismatch_raises(name):
    """Does a shape mismatch raise ValueError naming both arguments (no silent broadcast)?"""
    loss, grad, opts = LOSSES[name]
    for f in (loss, grad):
        with pytest.raises(ValueError, match="input and target"):
            f(np.zeros((2, 3)), np.zeros(3), **opts)


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("bad", [np.array([1j, 2j]), np.array(["a", "b"]), [[1.0], [1.0, 2.0]]])
def test_wrong_dtype_raises(name, bad):
    """Do complex, string and ragged inputs raise ValueError naming the argument?"""
    loss, grad, opts = LOSSES[name]
    for f in (loss, grad):
        with pytest.raises(ValueError, match="input"):
            f(bad, np.zeros(2), **opts)
        with pytest.raises(ValueError, match="target"):
            f(np.zeros(2), bad, **opts)


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("reduction", ["avg", "Mean", None, "batchmean"])
def test_bad_reduction_raises(name, reduction):
    """Does an unknown reduction raise ValueError naming `reduction`?"""
    loss, grad, opts = LOSSES[name]
    for f in (loss, grad):
        with pytest.raises(ValueError, match="reduction"):
            f([1.0], [0.0], reduction=reduction, **opts)


@pytest.mark.parametrize("beta", [-1.0, -1e-300, np.nan, np.inf, "1", None, True])
def test_bad_beta_raises(beta):
    """Do negative, NaN, infinite and non-numeric beta raise ValueError naming `beta`?"""
    for f in (smooth_l1_loss, smooth_l1_loss_grad):
        with pytest.raises(ValueError, match="beta"):
            f([1.0], [0.0], beta=beta)


@pytest.mark.parametrize("delta", [0.0, -1.0, np.nan, np.inf, "1", None, False])
def test_bad_delta_raises(delta):
    """Do delta ≤ 0, NaN, infinite and non-numeric delta raise ValueError naming `delta`?"""
    for f in (huber_loss, huber_loss_grad):
        with pytest.raises(ValueError, match="delta"):
            f([1.0], [0.0], delta=delta)


def test_options_are_keyword_only():
    """Are reduction, beta and delta keyword-only, so a positional third argument fails?"""
    with pytest.raises(TypeError):
        smooth_l1_loss([1.0], [0.0], 0.5)
    with pytest.raises(TypeError):
        mse_loss([1.0], [0.0], "sum")


# ------------------------------------------------------------------ torch, if present
def _torch():
    """Return the torch module, or skip: torch is an optional cross-check, never a dependency."""
    try:
        import torch as _t
    except ImportError:
        pytest.skip("torch is not installed (optional semantic cross-check)")
    return _t


TORCH_CASES = [("mse", None), ("l1", None)]
TORCH_CASES += [("smooth_l1", k) for k in (0.0, 0.5, 1.0, 2.0)]
TORCH_CASES += [("huber", k) for k in (0.5, 1.0, 2.0)]


@pytest.mark.parametrize(("name", "k"), TORCH_CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_matches_torch(name, k, reduction):
    """Where torch is importable, do values and gradients equal torch.nn.functional's?"""
    t_ = _torch()
    F = t_.nn.functional
    loss, grad, _ = LOSSES[name]
    opts = {"smooth_l1": {"beta": k}, "huber": {"delta": k}}.get(name, {})
    k = 1.0 if k is None else k
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(size=(5, 4)) * 2, [[0.0, k, -k, 1e3]]])
    t = np.concatenate([rng.normal(size=(5, 4)), [[0.0, 0.0, 0.0, 0.0]]])
    tx = t_.tensor(x, requires_grad=True)
    tf = {"mse": F.mse_loss, "l1": F.l1_loss, "smooth_l1": F.smooth_l1_loss}.get(name, F.huber_loss)
    out = tf(tx, t_.tensor(t), reduction=reduction, **opts)
    np.testing.assert_allclose(
        loss(x, t, reduction=reduction, **opts), out.detach().numpy(), rtol=1e-14
    )
    out.sum().backward()
    # includes beta = 0 at d = 0, where torch before the fix of pytorch#96813 gave NaN
    g = grad(x, t, reduction=reduction, **opts)
    np.testing.assert_allclose(g, tx.grad.numpy(), rtol=1e-14)
