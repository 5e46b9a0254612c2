"""Battery of ps3_softmax_sigmoid: sigmoid, log_sigmoid, logsumexp, softmax, log_softmax,
softmax_jacobian.

The hidden cases that separate a stable implementation from a naive one: logits of ±800
and ±1e4 (``exp`` overflows past 709.78), rows whose logits are all very negative (the
unshifted exponentials underflow to 0/0), a dominant logit far above the rest
(``log(softmax)`` gives ``log 0``), masked ``-inf`` entries, ties, C = 1, batches and axes.

Values alone cannot reject the naive ``1 / (1 + np.exp(-z))``: it overflows for very
negative ``z``, yet returns 0 only below z ≈ -709.8, where σ(z) is below 1e-308, and a
relative tolerance on such subnormal results would also reject the correct tanh form
``(1 + tanh(z / 2)) / 2`` (already exactly 0 at z = -38). So ``test_sigmoid`` runs the
student's function with ``raise_on=("over", "invalid")``: numpy raises inside it on
overflow, exactly as the notebook's visible check does with ``np.errstate(over="raise")``,
and the grader and the notebook agree.
"""

from __future__ import annotations

import numpy as np

from autograder.batteries.core import Battery, Case, Test

ASSIGNMENT = "ps3_softmax_sigmoid"


def _build() -> Battery:
    rng = np.random.default_rng(20260303)
    a = np.array
    inf = np.inf
    z3 = a([1.0, 2.0, 3.0])

    def logits(*shape):
        return 3.0 * rng.standard_normal(shape)

    sigmoid = Test(
        "test_sigmoid",
        "sigmoid",
        2,
        [
            # visible
            Case((0.0,)),
            Case((a([-2.0, 0.0, 2.0]),)),
            Case((a([-1000.0, 1000.0]),), category="overflow"),
            # hidden
            Case((logits(7),), category="random"),
            Case((logits(3, 4),), category="batch"),
            Case((a([-800.0, 800.0, -1e4, 1e4, -745.5, 709.9]),), category="overflow"),
            Case((a([[-1e4], [1e4]]),), category="overflow"),
            Case((a([1e-12, -1e-12, 36.0, -36.0]),), category="value"),
        ],
        raise_on=("over", "invalid"),
    )
    log_sigmoid = Test(
        "test_log_sigmoid",
        "log_sigmoid",
        2,
        [
            # visible
            Case((0.0,)),
            Case((a([-3.0, 3.0]),)),
            Case((-1000.0,), category="underflow"),
            Case((1000.0,), category="overflow"),
            # hidden
            Case((logits(6),), category="random"),
            Case((logits(2, 5),), category="batch"),
            Case((a([-800.0, -1e4, -750.0, -40.0]),), category="underflow"),
            Case((a([800.0, 1e4, 40.0, 710.0]),), category="overflow"),
        ],
        messages={
            "underflow": (
                "wrong result far in the negative tail (e.g. z = -1000): exp(-z) overflows to "
                "inf, so log(1 / (1 + exp(-z))) gives log(0) = -inf and -log(1 + exp(-z)) "
                "gives -inf; use log σ(z) = min(z, 0) − log1p(exp(−|z|))"
            ),
        },
    )
    logsumexp = Test(
        "test_logsumexp",
        "logsumexp",
        2,
        [
            # visible
            Case((a([0.0, 0.0]),)),
            Case((z3,)),
            Case((a([1000.0, 1000.0]),), category="overflow"),
            # a plain batch before the masked one, so a row mix-up is not called a mask problem
            Case((a([[0.0, 0.0], [1.0, 1.0]]),), category="batch"),
            Case((a([[0.0, 0.0], [0.0, -inf]]),), category="masked"),
            # hidden
            Case((logits(5),), category="random"),
            Case((logits(4, 6),), category="batch"),
            Case((logits(4, 6),), {"axis": 0}, category="axis"),
            Case((logits(2, 3, 4),), {"axis": 1}, category="axis"),
            Case((a([1e4, 0.0, -1e4]),), category="overflow"),
            Case((a([[800.0, 799.0], [-800.0, -801.0]]),), category="overflow"),
            Case((a([[3.0], [-2.0]]),), category="value"),
            Case((a([-inf, 1.0, 2.0]),), category="masked"),
        ],
    )
    softmax = Test(
        "test_softmax",
        "softmax",
        3,
        [
            # visible
            Case((z3,)),
            Case((z3 + 1000.0,), category="overflow"),
            Case((a([[0.0, 0.0], [0.0, np.log(3.0)]]),), category="batch"),
            Case((a([0.0, -inf]),), category="masked"),
            Case((a([1.0, 2.0], dtype=np.float32),), category="float32"),
            # hidden
            Case((logits(6),), category="random"),
            Case((logits(5, 4),), category="batch"),
            Case((logits(5, 4),), {"axis": 0}, category="axis"),
            Case((logits(2, 3, 4),), {"axis": 1}, category="axis"),
            Case((logits(3, 5) + 1e4,), category="overflow"),
            Case((a([800.0, -800.0, 0.0]),), category="overflow"),
            Case((a([[-1000.0, -1000.0], [-1e4, -1e4 - 1.0]]),), category="overflow"),
            Case((a([[2.0], [-7.0]]),), category="value"),
            Case((a([5.0, 5.0, 5.0]),), category="value"),
            Case((a([[1.0, -inf, 2.0], [-inf, 0.0, -inf]]),), category="masked"),
            Case((logits(4, 3).astype(np.float32),), category="float32"),
        ],
    )
    log_softmax = Test(
        "test_log_softmax",
        "log_softmax",
        2,
        [
            # visible
            Case((z3,)),
            # (1000, 999) before (1000, 0): without the max shift exp overflows on both, while
            # log(softmax) after the shift is exact here and underflows only on the wide gap
            Case((a([1000.0, 999.0]),), category="overflow"),
            Case((a([1000.0, 0.0]),), category="large_gap"),
            Case((a([[0.0, 0.0], [0.0, 0.0]]),), category="batch"),
            # hidden
            Case((logits(6),), category="random"),
            Case((logits(3, 4),), category="batch"),
            Case((logits(3, 4),), {"axis": 0}, category="axis"),
            Case((a([[0.0, -1e4, 50.0], [-800.0, 0.0, 800.0]]),), category="large_gap"),
            Case((logits(2, 3) + 1e4,), category="overflow"),
            Case((a([-1000.0, -1000.0, -1001.0]),), category="overflow"),
            Case((a([1.0, -inf, 0.0]),), category="masked"),
            Case((a([[4.0], [-4.0]]),), category="value"),
        ],
    )
    jacobian = Test(
        "test_softmax_jacobian",
        "softmax_jacobian",
        2,
        [
            # visible
            Case((a([0.0, 0.0]),)),
            Case((np.zeros((4, 3)),), category="batch"),
            Case((a([1000.0, 0.0]),), category="overflow"),
            # hidden
            Case((logits(5),), category="random"),
            Case((logits(3, 4),), category="batch"),
            Case((a([[800.0, 0.0, -800.0], [1e4, 1e4, 0.0]]),), category="overflow"),
            Case((a([[-1000.0, -1001.0]]),), category="overflow"),
            Case((a([2.5]),), category="value"),
        ],
    )
    return Battery(
        ASSIGNMENT,
        [sigmoid, log_sigmoid, logsumexp, softmax, log_softmax, jacobian],
        messages={
            "batch": (
                "wrong result on a batch (N, C): normalise or reduce each row separately "
                "(axis=-1, keepdims=True when you divide) and keep the batch shape; the "
                "Jacobian of a batch is (N, C, C)"
            ),
            "float32": (
                "wrong result for float32 logits: convert the input with "
                "np.asarray(z, dtype=np.float64) and return float64"
            ),
            "value": (
                "wrong value on a small input (a single class, ties, or values near 0): "
                "re-check the formula"
            ),
        },
    )


BATTERY = _build()
