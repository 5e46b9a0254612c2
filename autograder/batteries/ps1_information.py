"""Battery of ps1_information: self_information, entropy, binary_entropy.

Each ``Test`` holds the visible cases of its notebook cell first, then hidden ones of the
same kinds: random distributions, zeros (0·log 0 = 0), certain outcomes, unnormalised
input, batches and axes, bases 2, 10 and e, and tiny probabilities.
"""

from __future__ import annotations

import numpy as np

from autograder.batteries.core import Battery, Case, Test

ASSIGNMENT = "ps1_information"


def _distributions(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random probability vectors along the last axis of ``shape``."""
    x = rng.random(shape) + 0.05
    return x / x.sum(axis=-1, keepdims=True)


def _with_zeros(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Distributions where about a third of the entries are exactly 0 (never a whole row)."""
    x = rng.random(shape) + 0.05
    x[..., 1:] *= rng.random((*shape[:-1], shape[-1] - 1)) > 0.35
    return x / x.sum(axis=-1, keepdims=True)


def _build() -> Battery:
    rng = np.random.default_rng(20260101)
    a = np.array

    self_information = Test(
        "test_self_information",
        "self_information",
        2,
        [
            # visible
            Case((0.5,)),
            Case((1.0,)),
            Case((a([0.25, 0.125]),)),
            Case((0.125,), {"base": 2}, category="base"),
            Case((0.01,), {"base": 10}, category="base"),
            Case((0.0,), category="impossible"),
            # hidden
            Case((rng.random(7) * 0.98 + 0.01,), category="random"),
            Case((rng.random((3, 4)) * 0.98 + 0.01,), category="random"),
            Case((a([0.0, 0.5, 1.0]),), category="impossible"),
            Case((a([1e-300, 1e-20, 0.999999]),), category="tiny"),
            Case((rng.random(5) * 0.9 + 0.05,), {"base": 2}, category="base"),
            Case((rng.random((2, 3)) * 0.9 + 0.05,), {"base": 10}, category="base"),
            Case((a([0.3, 0.7]),), {"base": np.e}, category="base"),
        ],
    )
    entropy = Test(
        "test_entropy",
        "entropy",
        3,
        [
            # visible
            Case((a([0.25, 0.25, 0.25, 0.25]),)),
            Case((a([1.0, 0.0, 0.0]),), category="zero_prob"),
            Case((a([0.5, 0.5, 0.0]),), category="zero_prob"),
            Case((a([0.5, 0.25, 0.25]),), {"base": 2}, category="base"),
            Case((a([0.5, 0.25]),), category="unnormalised"),
            # hidden
            Case((_distributions(rng, (6,)),), category="random"),
            Case((_distributions(rng, (40,)),), category="random"),
            Case((a([0.0, 0.0, 0.3, 0.0, 0.7]),), category="zero_prob"),
            Case((a([1.0]),), category="value"),
            Case((a([0.2, 0.2, 0.1]),), category="unnormalised"),
            Case((a([0.9, 0.9]),), category="unnormalised"),
            Case((_distributions(rng, (5,)),), {"base": 2}, category="base"),
            Case((_distributions(rng, (5,)),), {"base": 10}, category="base"),
            Case((a([1e-300, 1.0 - 1e-16]),), category="tiny"),
        ],
    )
    entropy_axis = Test(
        "test_entropy_axis",
        "entropy",
        2,
        [
            # visible
            Case((a([[0.5, 0.5], [1.0, 0.0], [0.25, 0.75]]),), category="axis"),
            Case((a([[0.5, 1.0, 0.25], [0.5, 0.0, 0.75]]),), {"axis": 0}, category="axis"),
            # hidden
            Case((_with_zeros(rng, (5, 4)),), category="axis"),
            Case((_distributions(rng, (1, 3)),), category="axis"),
            Case((_distributions(rng, (2, 3, 4)),), category="axis"),
            Case((np.moveaxis(_with_zeros(rng, (2, 3, 4)), -1, 1),), {"axis": 1}, category="axis"),
            Case((_distributions(rng, (3, 5)).T,), {"axis": 0, "base": 2}, category="axis"),
        ],
    )
    binary_entropy = Test(
        "test_binary_entropy",
        "binary_entropy",
        2,
        [
            # visible
            Case((0.5,)),
            Case((0.5,), {"base": 2}, category="base"),
            Case((a([0.0, 1.0]),), category="zero_prob"),
            Case((0.1,)),
            Case((0.9,)),
            # hidden
            Case((rng.random(9),), category="random"),
            Case((rng.random((2, 3)),), category="random"),
            Case((a([0.0, 0.3, 1.0, 0.7]),), category="zero_prob"),
            Case((a([1e-20, 1.0 - 1e-12, 1e-300]),), category="tiny"),
            Case((rng.random(4),), {"base": 10}, category="base"),
            Case((a([0.11, 0.5, 0.89]),), {"base": 2}, category="base"),
        ],
    )
    return Battery(
        ASSIGNMENT,
        [self_information, entropy, entropy_axis, binary_entropy],
        messages={
            "impossible": (
                "wrong result for p = 0 or p = 1: an impossible event carries infinite "
                "information (−log 0 = +inf) and a certain one none (−log 1 = 0)"
            ),
            "tiny": (
                "wrong result for probabilities very close to 0 or 1: keep the exact formula "
                "(no clipping, no epsilon added to p)"
            ),
        },
    )


BATTERY = _build()
