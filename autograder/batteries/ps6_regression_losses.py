"""Battery of ps6_regression_losses: L2, L1, smooth L1 and Huber losses and their gradients.

One :class:`~autograder.batteries.core.Test` per test cell of
``solutions/ps6_regression_losses/ps6_regression_losses.ipynb``; the expected values come
from the reference functions of the same name in :mod:`autograder.regression`, computed
in the grader. The student version asks for the reference's whole signature
``(input, target, *, [beta= | delta=,] reduction="mean")``.

Each case's ``category`` names the misconception it probes; the test's messages say how
to fix it (chapter: book/regression_losses.md):

- ``reduction``: "mean" divides by the number of *elements*, not by the first axis, and
  "sum"/"none" are honoured (the MSE-with-sum mistake fails here);
- ``kink``: the subgradient at d = 0 is 0 (np.sign), not ±1;
- ``boundary``: |d| exactly equal to beta or delta;
- ``beta_zero``: smooth L1 with beta = 0 is L1, with no 0/0;
- ``beta`` / ``delta``: a threshold other than 1 (Huber without its δ factor fails here);
- ``huge``: residuals of 1e200, where 0.5·d² overflows (a mask times inf is NaN);
- ``dtype``: integer or float32 inputs still give float64 results.

>>> BATTERY.grade_ids[:2]
['test_mse_loss', 'test_mse_loss_grad']
>>> BATTERY.max_score
20.0
"""

from __future__ import annotations

import numpy as np

from autograder.batteries.core import DEFAULT_FORBIDDEN, Battery, Case, Test

ASSIGNMENT = "ps6_regression_losses"

MESSAGES = {
    "reduction": (
        "wrong result for the `reduction` option: 'mean' divides the sum by the number of "
        "elements (input.size, every axis), 'sum' adds the per-element values, 'none' returns "
        "them with the shape of input; a gradient is scaled the same way"
    ),
    "kink": (
        "wrong (sub)gradient at d = 0 (input equal to target): it must be 0, as np.sign(0) "
        "gives, not +1 or −1"
    ),
    "boundary": (
        "wrong result where |d| is exactly the threshold (beta or delta): |d| < threshold "
        "is the quadratic branch, |d| ≥ threshold the linear one, and both must meet there"
    ),
    "beta_zero": (
        "wrong result for beta = 0: smooth L1 with beta = 0 is the L1 loss (gradient "
        "sign(d)); never divide by beta when it is 0 (0/0 gives NaN)"
    ),
    "beta": (
        "wrong result for beta ≠ 1: use 0.5·d²/beta where |d| < beta and |d| − 0.5·beta "
        "elsewhere (gradient d/beta inside, sign(d) outside); check the branches are not "
        "swapped"
    ),
    "delta": (
        "wrong result for delta ≠ 1: huber = delta · smooth_l1(beta = delta), i.e. 0.5·d² "
        "where |d| < delta and delta·(|d| − 0.5·delta) elsewhere (gradient clipped at "
        "±delta); check the factor delta"
    ),
    "huge": (
        "NaN, inf or a wrong value for a residual of about 1e200: 0.5·d² overflows to inf, "
        "and a 0/1 mask times inf is NaN; never square |d| where the linear branch applies "
        "(clip |d| at the threshold, or select with np.where)"
    ),
    "batch": "wrong result on a 2-D input: the loss is elementwise, keep every axis",
    "dtype": "integer or float32 inputs must give float64 results: convert with dtype=np.float64",
    "raises": (
        "invalid threshold not refused: a negative beta, or delta ≤ 0, must raise ValueError"
    ),
}

_RNG = np.random.default_rng(20260621)
_X = _RNG.normal(size=(4, 5)) * 3.0
_T = _RNG.normal(size=(4, 5))

# Residuals 0, 2, 3 and −0.5: hand-checkable, and one exactly at the kink.
_X1 = np.array([1.0, 2.0, 4.0, 0.5])
_T1 = np.array([1.0, 0.0, 1.0, 1.0])
# Residuals on both sides of 1 and exactly ±1 (the default threshold) and 0.
_XB = np.array([0.5, 3.0, -1.0, 1.0, 0.0, -0.25])
_TB = np.zeros(6)
# Residuals exactly ±2.5 and inside/outside 2.5, for a threshold of 2.5.
_XT = np.array([2.5, -2.5, 1.0, -4.0, 0.0])
_TT = np.zeros(5)


def _none(x, t, category, **options) -> Case:
    """A case on the per-element values: it fails for the formula, never for a reduction."""
    return Case((x, t), {**options, "reduction": "none"}, category=category)


def _cases(threshold: str | None = None, extra=()):
    """The cases of one ps6 test, the most telling first.

    The judge reports the first three kinds of failure in case order, so the formula's
    own cases (on per-element values, ``reduction="none"``) come before the reduction
    cases: a wrong formula is not reported as a wrong reduction, and a wrong reduction
    fails the reduction cases alone.
    """
    cases = [_none(_X1, _T1, "value")]
    if threshold is not None:
        # the threshold's own cases before the boundary at 2.5: a wrong factor of the
        # threshold shows at |d| = 2.5 too, and is a threshold mistake, not a boundary one
        cases += [
            _none(_XB, _TB, "boundary"),
            _none(_X, _T, threshold, **{threshold: 2.5}),
            _none(_X, _T, threshold, **{threshold: 0.3}),
            _none(_XB, _TB, threshold, **{threshold: 2.0}),
            _none(_XT, _TT, "boundary", **{threshold: 2.5}),
            _none(np.array([1e200, -1e200, 0.5]), np.zeros(3), "huge"),
            _none(np.array([1e200, 3.0]), np.array([-1e200, 0.0]), "huge"),
            Case((_XB, _TB), {threshold: -1.0}, category="raises", expect_error="ValueError"),
        ]
    cases += [
        *extra,
        _none(np.array([0.0, 0.0, 1.5]), np.zeros(3), "kink"),
        _none(_X, _T, "batch"),
        Case((_X1, _T1), {}, category="reduction"),
        Case((_X1, _T1), {"reduction": "sum"}, category="reduction"),
        Case((np.ones((2, 3)), np.zeros((2, 3))), {}, category="reduction"),
        Case((_X, _T), {}, category="reduction"),
        Case((_X, _T), {"reduction": "sum"}, category="reduction"),
        _none(np.array([3, -1, 0]), np.array([1, 1, 0]), "dtype"),
        _none(
            np.array([0.5, 3.0], dtype=np.float32), np.array([0.0, 1.0], dtype=np.float32), "dtype"
        ),
    ]
    return cases


def _diagnose_kink(value, expected, case) -> str | None:
    """ "kink" when the value is wrong only where the residual is exactly 0 (a gradient of
    sign(0) = ±1): the hand-checkable case has such a residual, so case order alone would
    call it a wrong formula."""
    x, t = (np.asarray(v, dtype=np.float64) for v in case.args)
    value = np.asarray(value, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if value.shape != expected.shape or value.shape != np.broadcast(x, t).shape:
        return None
    at_kink = np.broadcast_to(x - t, value.shape) == 0
    close = np.isclose(value, expected, rtol=1e-7, atol=1e-7)
    if not np.all(np.isfinite(value)):  # NaN at d = 0 is a 0/0 (beta = 0), not a subgradient
        return None
    return "kink" if np.any(at_kink) and np.all(close | at_kink) and not np.all(close) else None


def _test(function: str, points: float, threshold: str | None = None, extra=()) -> Test:
    return Test(
        grade_id=f"test_{function}",
        function=function,
        points=points,
        cases=_cases(threshold, extra),
        messages=MESSAGES,
        diagnose=_diagnose_kink if function.endswith("_grad") else None,
    )


_BETA_ZERO = [
    _none(_XB, _TB, "beta_zero", beta=0.0),
    _none(_X, _T, "beta_zero", beta=0.0),
]
_DELTA_ZERO = [Case((_XB, _TB), {"delta": 0.0}, category="raises", expect_error="ValueError")]

BATTERY = Battery(
    assignment=ASSIGNMENT,
    tests=[
        _test("mse_loss", 2),
        _test("mse_loss_grad", 2),
        _test("l1_loss", 2),
        _test("l1_loss_grad", 2),
        _test("smooth_l1_loss", 3, "beta", _BETA_ZERO),
        _test("smooth_l1_loss_grad", 3, "beta", _BETA_ZERO),
        _test("huber_loss", 3, "delta", _DELTA_ZERO),
        _test("huber_loss_grad", 3, "delta", _DELTA_ZERO),
    ],
    # numpy only: SymPy is not needed here, so the message names numpy alone.
    forbidden_imports=(*DEFAULT_FORBIDDEN, "sympy"),
)
