"""Claims of the frameworks appendix (``book/frameworks.md``) checked against torch.

torch is not a dependency: each test skips where it is not importable, as the other
optional cross-checks do. Each test is one sentence of the table marked *(tested)*.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograder import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    entropy,
    kl_divergence,
    multi_margin_loss,
    softplus,
)


def _torch():
    return pytest.importorskip("torch", reason="torch is an optional cross-check")


def test_kl_div_mean_divides_by_elements_and_batchmean_by_samples():
    """Is F.kl_div(log q, p, "mean") Σ KL / (N·C), and "batchmean" Σ KL / N?"""
    torch = _torch()
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(5), size=4), rng.dirichlet(np.ones(5), size=4)
    total = float(np.sum(kl_divergence(p, q)))
    log_q, tp = torch.tensor(np.log(q)), torch.tensor(p)
    F = torch.nn.functional
    with pytest.warns(UserWarning):  # torch warns that "mean" is not the KL
        mean = F.kl_div(log_q, tp, reduction="mean").item()
    assert mean == pytest.approx(total / p.size, rel=1e-12)
    assert F.kl_div(log_q, tp, reduction="batchmean").item() == pytest.approx(total / 4, 1e-12)


def test_categorical_entropy_renormalises_its_probabilities():
    """Does Categorical(probs=p).entropy() renormalise p, where entropy(p) does not?"""
    torch = _torch()
    p = np.array([0.2, 0.2, 0.1])  # sums to 0.5
    renormalised = torch.distributions.Categorical(probs=torch.tensor(p)).entropy().item()
    assert renormalised == pytest.approx(entropy(p / p.sum()), rel=1e-12)
    assert renormalised != pytest.approx(entropy(p), rel=1e-3)


def test_binary_cross_entropy_clamps_the_log_at_minus_100():
    """Does one confident mistake cost exactly 100 in torch, as in binary_cross_entropy?"""
    torch = _torch()
    got = torch.nn.functional.binary_cross_entropy(
        torch.tensor([0.0], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64)
    )
    assert got.item() == 100.0 == binary_cross_entropy([0.0], [1.0])


def test_softplus_returns_its_input_above_the_threshold():
    """Is F.softplus(21) exactly 21 (threshold 20), while softplus(21) = 21 + log1p(e^−21)?"""
    torch = _torch()
    x = 21.0
    assert torch.nn.functional.softplus(torch.tensor([x], dtype=torch.float64)).item() == x
    assert softplus(x) == pytest.approx(x + math.log1p(math.exp(-x)), rel=1e-16)
    assert softplus(x) > x


def test_multi_margin_weight_multiplies_after_the_power():
    """With p = 2 and a class weight, is torch's loss w_y·max(0, z)²/C, like ours?"""
    torch = _torch()
    x, y, w = np.array([[0.0, 1.0]]), np.array([0]), np.array([3.0, 1.0])
    got = torch.nn.functional.multi_margin_loss(
        torch.tensor(x), torch.tensor(y), p=2, weight=torch.tensor(w)
    ).item()
    assert got == pytest.approx(3.0 * 2.0**2 / 2) == multi_margin_loss(x, y, p=2, weight=w)


def test_binary_cross_entropy_gradient_is_not_zeroed_by_the_clamp():
    """At p = 0, t = 1 (log clamped), is torch's gradient (p − t)/1e-12, not 0, like ours?"""
    torch = _torch()
    p = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([1.0, 0.0], dtype=torch.float64)
    torch.nn.functional.binary_cross_entropy(p, t, reduction="sum").backward()
    ours = binary_cross_entropy_grad([0.0, 1.0], [1.0, 0.0], reduction="sum")
    np.testing.assert_allclose(p.grad.numpy(), [-1e12, 1e12], rtol=1e-6)
    np.testing.assert_array_equal(p.grad.numpy(), ours)


def test_softmax_without_dim_guesses_dim_1_for_2d_but_dim_0_for_3d():
    """Does F.softmax(z) (no dim) normalise rows of a 2-D batch but the batch axis in 3-D?"""
    torch = _torch()
    F = torch.nn.functional
    z2, z3 = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 5, 3, dtype=torch.float64)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        s2 = F.softmax(z2)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        s3 = F.softmax(z3)
    torch.testing.assert_close(s2, F.softmax(z2, dim=1))
    torch.testing.assert_close(s3, F.softmax(z3, dim=0))
