"""Symbolic checks of the focal-loss and multiclass-hinge derivations.

The numerical agreement of each derivation with the reference gradient is tested in
``tests/test_focal.py`` and ``tests/test_margin.py``; here each derived expression is
proved equal to the textbook formula typed in by hand.
"""

from __future__ import annotations

import sympy as sp

from autograder import derivations as D
from autograder.derivations import alpha, gamma, margin, sigma, y, z


def test_focal_gradient_is_the_textbook_formula():
    """Is ∂L/∂z = α_t[γ q^(γ−1) σ(1 − σ)(1 − 2y) BCE + q^γ (σ − y)], q = 1 − p_t?"""
    s = sigma(z)
    q = s * (1 - y) + (1 - s) * y
    bce = -(y * sp.log(s) + (1 - y) * sp.log(1 - s))
    a_t = alpha * y + (1 - alpha) * (1 - y)
    focus = gamma * q ** (gamma - 1) * s * (1 - s) * (1 - 2 * y) * bce
    textbook = a_t * (focus + q**gamma * (s - y))
    # q^γ / q = q^(γ−1) needs q > 0, which holds for every finite logit: force it.
    difference = sp.expand_power_base(D.focal_loss_grad() - textbook, force=True)
    assert sp.simplify(sp.powsimp(difference, force=True)) == 0


def test_focal_gradient_at_gamma_zero_is_weighted_cross_entropy():
    """At γ = 0 does the focusing term vanish, leaving α_t(σ(z) − y)?"""
    a_t = alpha * y + (1 - alpha) * (1 - y)
    assert sp.simplify(D.focal_loss_grad().subs(gamma, 0) - a_t * (sigma(z) - y)) == 0


def test_multi_margin_gradient_two_classes():
    """With 2 classes: ∂/∂z_2 = [m − z_1 + z_2 > 0]/2 and ∂/∂z_1 its negative?"""
    z1, z2 = D.vector_symbols("z", 2)
    g = D.multi_margin_loss_grad(2, 1)
    violated = {z1: 0, z2: 0, margin: 1}
    met = {z1: 3, z2: 0, margin: 1}
    assert g[1].subs(violated) == sp.Rational(1, 2)
    assert g[0].subs(violated) == -sp.Rational(1, 2)
    assert g[0].subs(met) == 0 and g[1].subs(met) == 0


def test_squared_hinge_gradient_is_linear_in_the_violation():
    """For p = 2 and 2 classes, is ∂/∂z_2 = (m − z_1 + z_2) when violated, i.e. 2z/C?"""
    z1, z2 = D.vector_symbols("z", 2)
    g = D.multi_margin_loss_grad(2, 2)
    at = {z1: sp.Rational(1, 3), z2: 0, margin: 1}
    assert g[1].subs(at) == sp.Rational(2, 3)
    assert g[0].subs(at) == -sp.Rational(2, 3)


def test_multi_margin_gradient_sums_to_zero():
    """Does every component sum to 0 (adding a constant to all scores changes nothing)?"""
    for power in (1, 2):
        g = D.multi_margin_loss_grad(4, power)
        zs = D.vector_symbols("z", 4)
        point = dict(zip(zs, [sp.Rational(1, 2), 0, sp.Rational(1, 5), -1], strict=True))
        point[margin] = 1
        assert sum(entry.subs(point) for entry in g) == 0
