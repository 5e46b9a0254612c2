"""Accuracy of the classification losses and their gradients against mpmath, in ULPs.

DESIGN.md promises ≤ 1 ULP for the sigmoid cross-entropy with hard targets and ≤ 2 ULP
for the softmax cross-entropy on rows with exact logit gaps, including the gaps of 30 … 1e4
where the plain max shift (PyTorch, SciPy) returns 0 for the dominant class. Each test
records its worst error with ``ulp.record``, so the run ends with the table of worst ULP
errors; the oracles (``tests/mp_reference.py`` and the mpmath expressions here) never
cancel.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from mp_reference import (
    DPS,
    mp_log_sigmoid,
    mp_log_softmax,
    mp_sigmoid,
    mp_softmax,
    mp_softplus,
    to_float64,
)
from ulp import record

from autograder.classification import (
    binary_cross_entropy,
    sigmoid_cross_entropy,
    sigmoid_cross_entropy_grad,
    softmax_cross_entropy,
    softmax_cross_entropy_grad,
    softmax_cross_entropy_value_and_grad,
)

GAPS = [1e-8, 1.0, 30.0, 36.7, 100.0, 800.0, 1e4]


def _logits_1d():
    """Logits from tiny to huge, both signs: the fixed gaps plus a random spread."""
    rng = np.random.default_rng(7)
    fixed = np.array([*GAPS, 0.0, 0.5, 2.5, 17.0, 37.5, 40.0, 709.0, 745.0])
    spread = np.concatenate([rng.uniform(-60, 60, 300), rng.normal(size=100) * 1e-3])
    x = np.concatenate([fixed, spread])
    return np.concatenate([x, -x])


def _rows():
    """Rows whose logit gaps are exact (every difference is representable), with C = 2…4."""
    rows = []
    for g in GAPS:
        rows += [[g, 0.0], [0.0, -g], [g, 0.0, 0.0], [g, g, 0.0], [0.0, -g, -2 * g]]
        rows += [[2 * g, g, 0.0, -g]]
    rng = np.random.default_rng(11)
    rows += [list(rng.integers(-40, 40, size=4).astype(float)) for _ in range(40)]
    return rows


@pytest.mark.parametrize("target", [0.0, 1.0])
def test_sigmoid_cross_entropy_hard_targets_within_1_ulp(target):
    """Is BCE-with-logits within 1 ULP of mpmath for t ∈ {0, 1} at every logit size?"""
    x = _logits_1d()
    got = sigmoid_cross_entropy(x, np.full_like(x, target), reduction="none")
    # t = 1: −log σ(x);  t = 0: −log(1 − σ(x)) = softplus(x)
    oracle = [to_float64(-mp_log_sigmoid(v) if target else mp_softplus(v)) for v in x]
    assert record("sigmoid_cross_entropy", got, oracle) <= 1.0


@pytest.mark.parametrize("target", [0.0, 1.0])
def test_sigmoid_cross_entropy_grad_hard_targets_within_1_ulp(target):
    """Is the gradient (1 − t)σ(x) − tσ(−x) within 1 ULP, even where it is 1e−300?"""
    x = _logits_1d()
    got = sigmoid_cross_entropy_grad(x, np.full_like(x, target), reduction="none")
    oracle = [to_float64(-mp_sigmoid(-v) if target else mp_sigmoid(v)) for v in x]
    assert record("sigmoid_cross_entropy_grad", got, oracle) <= 1.0


def test_softmax_cross_entropy_exact_gaps_within_2_ulp():
    """Is every class's loss within 2 ULP of −log softmax in mpmath, gaps 1e−8 … 1e4?"""
    worst = 0.0
    for row in _rows():
        z = np.array(row)
        y = np.arange(z.size)
        got = softmax_cross_entropy(np.tile(z, (z.size, 1)), y, reduction="none")
        oracle = [to_float64(-v) for v in mp_log_softmax(row)]
        worst = max(worst, record("softmax_cross_entropy", got, oracle))
        loss, _ = softmax_cross_entropy_value_and_grad(np.tile(z, (z.size, 1)), y, reduction="none")
        record("softmax_cross_entropy_value_and_grad", loss, oracle)
    assert worst <= 2.0


def _mp_ce_grad(row, y):
    """p − onehot(y) in mpmath, the target entry as −Σ_{j≠y} p_j (no cancellation)."""
    with mpmath.workdps(DPS):
        p = mp_softmax(row)
        g = list(p)
        g[y] = -mpmath.fsum(p[j] for j in range(len(p)) if j != y)
        return [to_float64(v) for v in g]


def test_softmax_cross_entropy_grad_exact_gaps_within_2_ulp():
    """Is every gradient entry, the tiny ones included, within 2 ULP of p − y in mpmath?"""
    worst = 0.0
    for row in _rows():
        z = np.array(row)
        for y in range(z.size):
            got = softmax_cross_entropy_grad(z, y)
            worst = max(worst, record("softmax_cross_entropy_grad", got, _mp_ce_grad(row, y)))
    assert worst <= 2.0


def test_binary_cross_entropy_within_1_ulp():
    """Is BCE on probabilities within 1 ULP of −log p and −log(1 − p), tiny p included?"""
    rng = np.random.default_rng(3)
    p = np.concatenate([[1e-300, 1e-40, 1e-20, 1e-8, 0.5, 1 - 2**-30], rng.uniform(size=200)])
    for target in (0.0, 1.0):
        got = binary_cross_entropy(p, np.full_like(p, target), reduction="none")
        with mpmath.workdps(DPS):
            oracle = [
                to_float64(
                    min(
                        -mpmath.log(mpmath.mpf(v)) if target else -mpmath.log1p(-mpmath.mpf(v)), 100
                    )
                )
                for v in p
            ]
        assert record("binary_cross_entropy", got, oracle) <= 1.0
