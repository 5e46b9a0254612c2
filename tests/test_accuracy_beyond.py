"""Accuracy of the focal and margin losses and the two-variable information measures, in ULPs.

Each oracle is written here in mpmath at 60 digits from the definition, in a form that
never cancels (softplus as log1p(e^x), the marginals and p(x)p(y) formed exactly), and
rounded once to float64. Every test records its worst error with ``ulp.record``, so the
run's table of worst ULP errors includes these functions. DESIGN.md's bound is ≤ 2 ULP.
"""

from __future__ import annotations

import itertools

import mpmath
import numpy as np
import pytest
from mp_reference import DPS, to_float64
from ulp import record

from autograder import (
    conditional_entropy,
    expected_calibration_error,
    focal_loss,
    focal_loss_grad,
    joint_entropy,
    multi_margin_loss,
    multi_margin_loss_grad,
    mutual_information,
)

RNG = np.random.default_rng(20261202)
LOGITS = np.concatenate(
    [
        RNG.uniform(-60, 60, 300),
        RNG.normal(size=100) * 1e-3,
        [0.0, 1e-8, 1.0, 30.0, 36.7, 100.0, 709.0, 745.0, 1e4],
    ]
)
LOGITS = np.concatenate([LOGITS, -LOGITS])


def mp_focal(x, t, alpha, gamma):
    """α_t (1 − p_t)^γ BCE from σ(±x) = 1/(1 + e^∓x) and softplus = log1p(e^x)."""
    with mpmath.workdps(DPS):
        x, t = mpmath.mpf(float(x)), mpmath.mpf(float(t))
        s_pos, s_neg = 1 / (1 + mpmath.exp(-x)), 1 / (1 + mpmath.exp(x))
        q = s_pos * (1 - t) + s_neg * t
        bce = t * mpmath.log1p(mpmath.exp(-x)) + (1 - t) * mpmath.log1p(mpmath.exp(x))
        a_t = 1 if alpha < 0 else alpha * t + (1 - alpha) * (1 - t)
        return to_float64(a_t * q ** mpmath.mpf(gamma) * bce)


@pytest.mark.parametrize("target", [0.0, 1.0])
@pytest.mark.parametrize(("alpha", "gamma"), [(0.25, 2.0), (-1.0, 2.0), (0.25, 0.5), (0.9, 5.0)])
def test_focal_loss_hard_targets_within_2_ulp(target, alpha, gamma):
    """Is the focal loss within 2 ULP at any logit, the easy tail (tiny loss) included?"""
    t = np.full_like(LOGITS, target)
    got = focal_loss(LOGITS, t, alpha=alpha, gamma=gamma)
    want = np.array([mp_focal(x, target, alpha, gamma) for x in LOGITS])
    assert record("focal_loss", got, want) <= 2


def mp_focal_grad(x, t, alpha, gamma):
    """α_t[γ q^(γ−1) σ(x)σ(−x)(1 − 2t) BCE + q^γ (σ(x) − t)], σ(x) − t as σ(x)(1−t) − σ(−x)t."""
    with mpmath.workdps(DPS):
        x, t = mpmath.mpf(float(x)), mpmath.mpf(float(t))
        s_pos, s_neg = 1 / (1 + mpmath.exp(-x)), 1 / (1 + mpmath.exp(x))
        q = s_pos * (1 - t) + s_neg * t
        bce = t * mpmath.log1p(mpmath.exp(-x)) + (1 - t) * mpmath.log1p(mpmath.exp(x))
        focus = gamma * q ** (gamma - 1) * s_pos * s_neg * (1 - 2 * t) * bce if gamma else 0
        a_t = 1 if alpha < 0 else alpha * t + (1 - alpha) * (1 - t)
        return to_float64(a_t * (focus + q ** mpmath.mpf(gamma) * (s_pos * (1 - t) - s_neg * t)))


@pytest.mark.parametrize("target", [0.0, 1.0])
@pytest.mark.parametrize(("alpha", "gamma"), [(0.25, 2.0), (-1.0, 0.5), (0.9, 5.0)])
def test_focal_loss_grad_hard_targets_within_2_ulp(target, alpha, gamma):
    """Is the focal-loss gradient within 2 ULP at any logit, tiny tail gradients included?"""
    x = LOGITS[np.abs(LOGITS) < 700]  # beyond, the gradient underflows to subnormals or 0
    got = focal_loss_grad(x, np.full_like(x, target), alpha=alpha, gamma=gamma)
    want = np.array([mp_focal_grad(v, target, alpha, gamma) for v in x])
    assert record("focal_loss_grad", got, want) <= 2


def mp_multi_margin(row, target, p, margin, weight):
    """(w_y / C) Σ_{j≠y} max(0, margin − x_y + x_j)^p, exactly."""
    with mpmath.workdps(DPS):
        total = mpmath.mpf(0)
        for j, v in enumerate(row):
            z = mpmath.mpf(margin) - mpmath.mpf(float(row[target])) + mpmath.mpf(float(v))
            if j != target and z > 0:
                total += z**p
        w = 1 if weight is None else mpmath.mpf(float(weight[target]))
        return to_float64(w * total / len(row))


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weight", [None, np.array([0.3, 1.0, 2.5, 7.0, 1.1])])
def test_multi_margin_loss_within_2_ulp(p, weight):
    """Per-sample hinge losses within 2 ULP, margins met to a few bits included?"""
    x = RNG.normal(size=(300, 5)) * 3
    y = RNG.integers(0, 5, size=300)
    x[:50, 1] = x[:50, 0] - 1.0 + RNG.normal(size=50) * 1e-15  # violations near 0
    y[:50] = 0
    got = multi_margin_loss(x, y, p=p, weight=weight, reduction="none")
    want = np.array([mp_multi_margin(r, t, p, 1.0, weight) for r, t in zip(x, y, strict=True)])
    assert record("multi_margin_loss", got, want) <= 2


@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss_grad_within_2_ulp(p):
    """Is each entry of the hinge's subgradient within 2 ULP, the true class's sum too?"""
    x = RNG.normal(size=(200, 5)) * 3
    y = RNG.integers(0, 5, size=200)
    got = multi_margin_loss_grad(x, y, p=p, reduction="none")
    want = np.zeros_like(x)
    with mpmath.workdps(DPS):
        for i, (row, t) in enumerate(zip(x, y, strict=True)):
            total = mpmath.mpf(0)
            for j, v in enumerate(row):
                z = 1 - mpmath.mpf(float(row[t])) + mpmath.mpf(float(v))
                if j != t and z > 0:
                    g = (1 if p == 1 else 2 * z) / mpmath.mpf(len(row))
                    want[i, j] = to_float64(g)
                    total += g
            want[i, t] = to_float64(-total)
    assert record("multi_margin_loss_grad", got, want) <= 2


def test_expected_calibration_error_within_2_ulp():
    """Is the ECE within 2 ULP of Σ_b |#correct_b − Σ conf| / N computed exactly?"""
    worst = 0.0
    for n, scale in [(50, 1.0), (2000, 3.0), (5000, 0.3)]:
        z = RNG.normal(size=(n, 5)) * scale
        probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        target = RNG.integers(0, 5, size=n)
        conf, correct = probs.max(axis=1), probs.argmax(axis=1) == target
        edges = np.linspace(0, 1, 16)
        with mpmath.workdps(DPS):
            total = mpmath.mpf(0)
            for lo, hi in itertools.pairwise(edges):
                inside = (conf > lo) & (conf <= hi)
                confs = mpmath.fsum(mpmath.mpf(float(c)) for c in conf[inside])
                total += abs(int(correct[inside].sum()) - confs)
            want = to_float64(total / n)
        got = expected_calibration_error(probs, target)
        worst = max(worst, record("expected_calibration_error", got, want))
    assert worst <= 2


def _mp_table(joint):
    """The joint table, its row sums p(x) and column sums p(y), exactly in mpmath."""
    j = [[mpmath.mpf(float(v)) for v in row] for row in joint]
    px = [mpmath.fsum(row) for row in j]
    py = [mpmath.fsum(j[i][k] for i in range(len(j))) for k in range(len(j[0]))]
    return j, px, py


def mp_joint_entropy(joint):
    with mpmath.workdps(DPS):
        j, _, _ = _mp_table(joint)
        return to_float64(-mpmath.fsum(v * mpmath.log(v) for row in j for v in row if v > 0))


def mp_conditional_entropy(joint):
    with mpmath.workdps(DPS):
        j, px, _ = _mp_table(joint)
        terms = [v * mpmath.log(px[i] / v) for i, row in enumerate(j) for v in row if v > 0]
        return to_float64(mpmath.fsum(terms))


def mp_mutual_information(joint):
    with mpmath.workdps(DPS + 40):  # the terms cancel to 1e-17 of their size: extra digits
        j, px, py = _mp_table(joint)
        terms = [
            v * mpmath.log(v / (px[i] * py[k]))
            for i, row in enumerate(j)
            for k, v in enumerate(row)
            if v > 0
        ]
        return to_float64(mpmath.fsum(terms))


def _tables():
    """Random tables, some with zeros, some nearly independent (relative gaps 1e-8…1e-2)."""
    tables = []
    for k in range(60):
        nx, ny = RNG.integers(2, 6, size=2)
        if k % 3 == 0:
            table = RNG.dirichlet(np.ones(nx * ny)).reshape(nx, ny)
        else:
            gap = 10.0 ** -RNG.integers(2, 9)
            px, py = RNG.dirichlet(np.ones(nx)), RNG.dirichlet(np.ones(ny))
            table = np.outer(px, py) * (1 + gap * RNG.uniform(-1, 1, size=(nx, ny)))
        if k % 5 == 0:
            table[0, -1] = 0.0
        tables.append(table)
    tables.append(np.array([[0.5 * (1 - 1e-12), 0.5e-12], [0.5e-12, 0.5 * (1 - 1e-12)]]))
    return tables


TABLES = _tables()


@pytest.mark.parametrize(
    ("name", "f", "oracle"),
    [
        ("joint_entropy", joint_entropy, mp_joint_entropy),
        ("conditional_entropy", conditional_entropy, mp_conditional_entropy),
        ("mutual_information", mutual_information, mp_mutual_information),
    ],
)
def test_two_variable_measures_within_2_ulp(name, f, oracle):
    """Within 2 ULP, nearly independent and nearly determined tables included?"""
    got = np.array([f(t) for t in TABLES])
    want = np.array([oracle(t) for t in TABLES])
    assert record(name, got, want) <= 2
