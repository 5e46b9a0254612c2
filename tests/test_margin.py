"""Tests for ``autograder.margin``: PyTorch's multiclass hinge loss and its subgradient.

Oracles: PyTorch's documented example, values computed by hand, a loop transcription of
PyTorch's C++ kernel, the SymPy derivation (``autograder.derivations``), central
differences away from the kinks, and torch itself where it is importable.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from autograder import derivations as D
from autograder import multi_margin_loss, multi_margin_loss_grad

RNG = np.random.default_rng(20261202)
SCORES = RNG.normal(size=(12, 4)) * 2
TARGET = RNG.integers(0, 4, size=12)
WEIGHT = np.array([1.0, 2.0, 0.5, 3.0])


def kernel_loop(x, y, p=1, margin=1.0, weight=None):
    """PyTorch's MultiMarginCriterion forward, one sample and one class at a time."""
    out = []
    for row, target in zip(np.atleast_2d(x), np.atleast_1d(y), strict=True):
        total = 0.0
        for j, score in enumerate(row):
            if j == target:
                continue
            z = margin - row[target] + score
            if z > 0:
                h = z if p == 1 else z * z
                total += h if weight is None else h * weight[target]
        out.append(total / row.size)
    return np.array(out)


def test_pytorch_documented_example():
    """Is the loss of PyTorch's docs example ([0.1, 0.2, 0.4, 0.8], y = 3) 0.325?"""
    assert multi_margin_loss([[0.1, 0.2, 0.4, 0.8]], [3]) == pytest.approx(0.325, rel=1e-15)


def test_margin_met_costs_nothing_and_has_zero_gradient():
    """When the true score wins by more than the margin, are loss and gradient exactly 0?"""
    assert multi_margin_loss([3.0, 1.0, 0.5], 0) == 0.0
    np.testing.assert_array_equal(multi_margin_loss_grad([3.0, 1.0, 0.5], 0), np.zeros(3))


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weight", [None, WEIGHT])
@pytest.mark.parametrize("margin", [1.0, 0.3, 2.5])
def test_matches_kernel_transcription(p, weight, margin):
    """Per-sample losses equal the loop over classes, the weight applied after the power?"""
    got = multi_margin_loss(SCORES, TARGET, p=p, margin=margin, weight=weight, reduction="none")
    np.testing.assert_allclose(got, kernel_loop(SCORES, TARGET, p, margin, weight), rtol=1e-14)


def test_weight_multiplies_after_the_power():
    """With p = 2, is the weight w_y·max(0, z)², not (w_y·z)² as PyTorch's docs print?"""
    # z = 1 − 0 + 1 = 2 for the one other class; C = 2: loss = w·4/2.
    assert multi_margin_loss([0.0, 1.0], 0, p=2, weight=[3.0, 1.0]) == pytest.approx(6.0)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_reductions_average_over_samples(reduction):
    """Does "mean" divide the sum of per-sample losses by N (not by Σ w)?"""
    per = multi_margin_loss(SCORES, TARGET, weight=WEIGHT, reduction="none")
    want = per.mean() if reduction == "mean" else per.sum()
    got = multi_margin_loss(SCORES, TARGET, weight=WEIGHT, reduction=reduction)
    assert got == pytest.approx(want, rel=1e-14)


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("n", [2, 3, 4])
def test_gradient_equals_sympy_derivation(p, n):
    """Does the subgradient equal SymPy's derivative of the Piecewise hinge, kinks too?"""
    zs = D.vector_symbols("z", n)
    expr = D.multi_margin_loss_grad(n, p)
    f = sp.lambdify([*zs, D.margin], expr, modules="numpy")
    rows = np.vstack([RNG.normal(size=(20, n)), [[1.0] + [0.0] * (n - 1)]])  # last: a kink
    for row in rows:
        want = np.asarray(f(*row, 1.0), dtype=float).ravel()
        got = multi_margin_loss_grad(row, 0, p=p, reduction="sum")
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("p", [1, 2])
def test_gradient_matches_central_differences_away_from_kinks(p):
    """Away from z_j = 0, does the gradient match central differences of the loss?"""
    h = 1e-6
    for row, target in zip(SCORES, TARGET, strict=True):
        z = 1.0 - row[target] + row
        if np.any(np.abs(np.delete(z, target)) < 1e-3):
            continue
        fd = np.array(
            [
                (
                    multi_margin_loss(row + h * e, target, p=p)
                    - multi_margin_loss(row - h * e, target, p=p)
                )
                / (2 * h)
                for e in np.eye(row.size)
            ]
        )
        np.testing.assert_allclose(multi_margin_loss_grad(row, target, p=p), fd, atol=1e-8)


def test_gradient_at_the_kink_is_zero():
    """With the margin met exactly (z = 0), is that class's subgradient 0, as in PyTorch?"""
    g = multi_margin_loss_grad([1.0, 0.0], 0)  # z = 1 − 1 + 0 = 0
    np.testing.assert_array_equal(g, [0.0, 0.0])


def test_infinite_scores_follow_pytorch():
    """Do infinite scores give PyTorch's 0, inf and NaN (inf − inf), with no NaN from 2Sum?"""
    inf = np.inf
    assert multi_margin_loss([[inf, 0.0]], [0]) == 0.0  # the true class infinitely ahead
    assert multi_margin_loss([[0.0, inf]], [0]) == inf  # a wrong class infinitely ahead
    assert multi_margin_loss([[-inf, 0.0]], [0], p=2) == inf
    assert np.isnan(multi_margin_loss([[inf, inf]], [0]))
    np.testing.assert_array_equal(multi_margin_loss_grad([[inf, 0.0]], [0]), [[0.0, 0.0]])
    np.testing.assert_array_equal(multi_margin_loss_grad([[0.0, inf]], [0]), [[-0.5, 0.5]])


def test_one_dimensional_input():
    """Does (C,) input with a scalar target give a scalar, and a (C,) gradient?"""
    assert np.ndim(multi_margin_loss([0.1, 0.2, 0.4, 0.8], 3, reduction="none")) == 0
    assert multi_margin_loss_grad([0.1, 0.2, 0.4, 0.8], 3).shape == (4,)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((SCORES, TARGET.astype(float)), {}, "target must hold integer class indices"),
        ((SCORES, TARGET[:5]), {}, "target must have shape"),
        ((SCORES, TARGET + 4), {}, "class indices in"),
        ((SCORES, TARGET), {"p": 3}, "p must be 1 or 2"),
        ((SCORES, TARGET), {"margin": float("inf")}, "margin must be finite"),
        ((SCORES, TARGET), {"weight": [1.0, 2.0]}, "weight must have shape"),
        ((SCORES[None], TARGET), {}, "input must have shape"),
        ((SCORES, TARGET), {"reduction": "avg"}, "reduction must be one of"),
    ],
)
def test_bad_arguments_raise_naming_the_argument(args, kwargs, match):
    """Is each bad argument a ValueError naming it?"""
    with pytest.raises(ValueError, match=match):
        multi_margin_loss(*args, **kwargs)
    with pytest.raises(ValueError, match=match):
        multi_margin_loss_grad(*args, **kwargs)


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weight", [None, WEIGHT])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_matches_torch_where_available(p, weight, reduction):
    """Where torch is importable, do loss and gradient equal F.multi_margin_loss's?"""
    torch = pytest.importorskip("torch", reason="torch is an optional cross-check")
    tx = torch.tensor(SCORES, requires_grad=True)
    tw = None if weight is None else torch.tensor(weight)
    out = torch.nn.functional.multi_margin_loss(
        tx, torch.tensor(TARGET), p=p, margin=0.8, weight=tw, reduction=reduction
    )
    out.sum().backward()
    got = multi_margin_loss(SCORES, TARGET, p=p, margin=0.8, weight=weight, reduction=reduction)
    np.testing.assert_allclose(got, out.detach().numpy(), rtol=1e-13)
    # out.sum() of "none" is the "sum" reduction, so its gradient is the "sum" gradient.
    grad_reduction = "mean" if reduction == "mean" else "sum"
    grad = multi_margin_loss_grad(
        SCORES, TARGET, p=p, margin=0.8, weight=weight, reduction=grad_reduction
    )
    np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-13, atol=1e-16)
