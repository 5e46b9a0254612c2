"""Battery of ps2_divergence: kl_divergence and cross_entropy.

Hidden cases probe the argument order (asymmetry), zeros in p (0·log 0 = 0, even where
q = 0), q = 0 < p (+inf, so clipping q fails), p = q (exactly 0), nearly equal p and q,
unnormalised input, batches, axes and bases.
"""

from __future__ import annotations

import numpy as np

from autograder.batteries.core import Battery, Case, Test
from autograder.batteries.ps1_information import _distributions, _with_zeros

ASSIGNMENT = "ps2_divergence"


def _swapped(function: str):
    """A ``Test.diagnose`` naming "asymmetry" when the value is the reference with p and q
    exchanged (the student's formula weights by q): no case order can tell that apart from
    any other wrong formula, since every case with p ≠ q fails both."""

    def diagnose(value, expected, case) -> str | None:
        import autograder

        p, q = case.args
        with np.errstate(all="ignore"):
            exchanged = getattr(autograder, function)(q, p, **case.kwargs)
            value = np.asarray(value, dtype=np.float64)
            same = np.shape(value) == np.shape(exchanged) and np.allclose(
                value, exchanged, rtol=1e-7, atol=1e-7, equal_nan=True
            )
        if same and not np.allclose(exchanged, expected, rtol=1e-7, atol=1e-7, equal_nan=True):
            return "asymmetry"
        return None

    return diagnose


def _build() -> Battery:
    rng = np.random.default_rng(20260202)
    a = np.array
    half = a([0.5, 0.5])
    p3, q3 = a([0.2, 0.3, 0.5]), a([0.1, 0.6, 0.3])
    near_p = _distributions(rng, (8,))
    near_q = near_p * (1 + 1e-6 * rng.standard_normal(8))
    near_q /= near_q.sum()

    def pair(shape):
        return _distributions(rng, shape), _distributions(rng, shape)

    kl = Test(
        "test_kl_divergence",
        "kl_divergence",
        3,
        [
            # visible
            Case((half, half), category="identity"),
            Case((half, a([0.25, 0.75]))),
            Case((a([0.25, 0.75]), half), category="asymmetry"),
            Case((a([1.0, 0.0]), half), category="zero_prob"),
            Case((half, a([1.0, 0.0])), category="zero_q"),
            # hidden
            Case(pair((5,)), category="random"),
            Case((a([0.9, 0.1]), half), category="asymmetry"),
            Case((half, a([0.9, 0.1])), category="asymmetry"),
            Case((a([0.7, 0.2, 0.1]), a([0.1, 0.2, 0.7])), category="asymmetry"),
            Case((_with_zeros(rng, (6,)), _distributions(rng, (6,))), category="zero_prob"),
            Case((a([0.0, 0.4, 0.6]), a([0.0, 0.5, 0.5])), category="zero_prob"),
            Case((a([0.3, 0.3, 0.4]), a([0.5, 0.5, 0.0])), category="zero_q"),
            Case((p3, p3.copy()), category="identity"),
            Case((near_p, near_q), category="random"),
            Case((a([0.1, 0.1]), a([0.2, 0.3])), category="unnormalised"),
        ],
        diagnose=_swapped("kl_divergence"),
    )
    kl_axis = Test(
        "test_kl_divergence_axis",
        "kl_divergence",
        2,
        [
            # visible
            Case((a([[0.5, 0.5], [0.9, 0.1]]), a([[0.5, 0.5], [0.5, 0.5]])), category="axis"),
            Case(
                (a([[0.5, 0.9], [0.5, 0.1]]), a([[0.5, 0.5], [0.5, 0.5]])),
                {"axis": 0},
                category="axis",
            ),
            Case((a([1.0, 0.0]), half), {"base": 2}, category="base"),
            # hidden
            Case(pair((4, 3)), category="axis"),
            Case(pair((2, 3, 4)), category="axis"),
            Case(tuple(x.T for x in pair((5, 3))), {"axis": 0}, category="axis"),
            Case(pair((1, 6)), category="axis"),
            Case(pair((6,)), {"base": 10}, category="base"),
            Case(pair((3, 4)), {"base": 2}, category="base"),
        ],
    )
    ce = Test(
        "test_cross_entropy",
        "cross_entropy",
        3,
        [
            # visible
            Case((a([1.0, 0.0, 0.0]), a([0.5, 0.4, 0.1]))),
            Case((a([1.0, 0.0, 0.0]), a([0.8, 0.1, 0.1]))),
            Case((a([1.0, 0.0, 0.0]), a([1.0, 0.0, 0.0])), category="zero_prob"),
            Case((p3, q3)),
            Case((p3, q3), {"base": 10}, category="base"),
            Case((a([1.0, 0.0, 0.0]), a([0.0, 0.5, 0.5])), category="zero_q"),
            # hidden
            Case(pair((7,)), category="random"),
            Case((q3, p3), category="asymmetry"),
            Case((a([0.0, 1.0, 0.0, 0.0, 0.0]), a([0.1, 0.6, 0.1, 0.1, 0.1]))),
            Case((_with_zeros(rng, (8,)), _distributions(rng, (8,))), category="zero_prob"),
            Case((a([0.0, 0.5, 0.5]), a([0.0, 0.2, 0.8])), category="zero_prob"),
            Case((a([0.5, 0.5, 0.0]), a([0.0, 0.7, 0.3])), category="zero_q"),
            Case((p3, p3.copy()), category="identity"),
            Case((a([0.2, 0.2]), a([0.3, 0.3])), category="unnormalised"),
            Case(pair((5,)), {"base": 2}, category="base"),
        ],
        diagnose=_swapped("cross_entropy"),
    )
    ce_axis = Test(
        "test_cross_entropy_axis",
        "cross_entropy",
        2,
        [
            # visible
            Case(
                (a([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]), a([[0.9, 0.1], [0.9, 0.1], [0.5, 0.5]])),
                category="axis",
            ),
            Case(
                (a([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]]), a([[0.9, 0.9, 0.5], [0.1, 0.1, 0.5]])),
                {"axis": 0},
                category="axis",
            ),
            # hidden
            Case(pair((4, 3)), category="axis"),
            Case(pair((2, 3, 5)), category="axis"),
            Case(tuple(x.T for x in pair((6, 2))), {"axis": 0}, category="axis"),
            Case((np.eye(4), _distributions(rng, (4, 4))), category="axis"),
            Case(pair((3, 4)), {"base": 2}, category="base"),
        ],
    )
    return Battery(
        ASSIGNMENT,
        [kl, kl_axis, ce, ce_axis],
        messages={
            "asymmetry": (
                "wrong result when p and q are exchanged: D(p‖q) = Σ p log(p/q) and "
                "H(p, q) = −Σ p log q are weighted by the FIRST argument p; check the order "
                "of p and q in your formula"
            ),
            "identity": "wrong result for p = q: D(p‖p) is exactly 0 and H(p, p) = H(p)",
            "zero_prob": (
                "wrong result when some p_i = 0: such a term contributes 0 (0·log 0 = 0), "
                "even where q_i = 0 as well; it must not produce NaN"
            ),
        },
    )


BATTERY = _build()
