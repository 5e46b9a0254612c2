"""Battery of ps4_classification_losses: softmax_cross_entropy, binary_cross_entropy,
sigmoid_cross_entropy.

The student versions ask for a subset of the reference's options: integer class targets
and ``reduction`` only (no ``weight``, ``ignore_index``, ``label_smoothing`` or
``pos_weight``), so the cases use only those. Hidden cases: reductions, N = 1, C = 2,
logits of ±800 and ±1e4, PyTorch's clamp of each log at −100 (probabilities of exactly
0 or 1, and 1e-50, where an epsilon clip gives a different value), soft and multi-label
targets, and invalid input that must raise ``ValueError``.
"""

from __future__ import annotations

import numpy as np

from autograder.batteries.core import Battery, Case, Test

ASSIGNMENT = "ps4_classification_losses"


def _build() -> Battery:
    rng = np.random.default_rng(20260404)
    a = np.array

    def logits(*shape):
        return 3.0 * rng.standard_normal(shape)

    def classes(n, c):
        return rng.integers(0, c, size=n)

    def probs(*shape):
        return rng.uniform(0.02, 0.98, size=shape)

    def hard(*shape):
        return (rng.random(shape) < 0.5).astype(np.float64)

    # the BCE tests' own message for a sign error (the judge recognises -expected)
    bce_messages = {
        "sign": (
            "wrong sign: the loss is −[t log p + (1 − t) log(1 − p)], the minus covers "
            "both terms, so every loss is ≥ 0 (for t = 0 it is −log(1 − p))"
        )
    }
    z_articles = np.log(a([[0.5, 0.4, 0.1], [0.8, 0.1, 0.1]]))
    zeros23, t02 = np.zeros((2, 3)), a([0, 2])

    sce = Test(
        "test_softmax_cross_entropy",
        "softmax_cross_entropy",
        3,
        [
            # visible
            Case((zeros23, t02)),
            Case((zeros23, t02), {"reduction": "sum"}, category="reduction"),
            Case((zeros23, t02), {"reduction": "none"}, category="reduction"),
            Case((z_articles, a([0, 0])), {"reduction": "none"}),
            # hidden
            Case((logits(8, 5), classes(8, 5)), category="random"),
            Case((logits(8, 5), classes(8, 5)), {"reduction": "sum"}, category="reduction"),
            Case((logits(6, 4), classes(6, 4)), {"reduction": "none"}, category="reduction"),
            Case((logits(1, 7), a([6])), category="value"),
            Case((logits(5, 2), classes(5, 2)), {"reduction": "none"}, category="value"),
            Case((logits(4, 3), classes(4, 3)), {"reduction": "mean"}, category="reduction"),
        ],
    )
    sce_stable = Test(
        "test_softmax_cross_entropy_stable",
        "softmax_cross_entropy",
        2,
        [
            # visible
            Case((a([[1000.0, 0.0]]), a([0])), category="overflow"),
            Case((a([[1000.0, 0.0]]), a([1])), category="large_gap"),
            Case((np.zeros((1, 3)), a([3])), expect_error="ValueError", category="index"),
            # hidden
            Case((logits(5, 4) + 1e4, classes(5, 4)), {"reduction": "none"}, category="overflow"),
            Case((logits(5, 4) - 1e4, classes(5, 4)), {"reduction": "none"}, category="overflow"),
            Case(
                (a([[800.0, -800.0, 0.0], [0.0, 1e4, -1e4]]), a([1, 2])),
                {"reduction": "none"},
                category="large_gap",
            ),
            Case(
                (a([[1e4, 0.0], [0.0, 1e4]]), a([0, 1])), {"reduction": "none"}, category="overflow"
            ),
            Case((np.zeros((2, 3)), a([0, -1])), expect_error="ValueError", category="index"),
            Case((np.zeros((2, 4)), a([1, 7])), expect_error="ValueError", category="index"),
        ],
    )
    bce = Test(
        "test_binary_cross_entropy",
        "binary_cross_entropy",
        2,
        [
            # visible
            Case((a([0.5]), a([1.0]))),
            # t = 0 alone: a minus sign missing on the (1 - t) term gives exactly -expected,
            # which the judge names "sign" before any mixed case calls it a wrong value
            Case((a([0.2]), a([0.0]))),
            Case((a([0.9, 0.2]), a([1.0, 0.0]))),
            Case((a([0.9, 0.2]), a([1.0, 0.0])), {"reduction": "sum"}, category="reduction"),
            Case((a([0.9, 0.2]), a([1.0, 0.0])), {"reduction": "none"}, category="reduction"),
            # hidden
            Case((probs(10), hard(10)), category="random"),
            Case((probs(4, 3), hard(4, 3)), category="random"),
            Case((probs(4, 3), hard(4, 3)), {"reduction": "none"}, category="reduction"),
            Case((probs(7), hard(7)), {"reduction": "sum"}, category="reduction"),
            Case((probs(6), rng.random(6)), category="soft"),
            Case((a([0.3, 0.7]), a([0.3, 0.7])), {"reduction": "none"}, category="soft"),
        ],
        messages=bce_messages,
    )
    bce_edges = Test(
        "test_binary_cross_entropy_edges",
        "binary_cross_entropy",
        2,
        [
            # visible: one element each, so that a wrong 'mean' cannot pass for a clamp
            # problem (mean = sum = the element); the hidden cases use reduction="none"
            Case((a([1.0]), a([0.0])), category="clamp"),
            Case((a([0.0]), a([1.0])), category="clamp"),
            Case((a([1.0, 0.0]), a([1.0, 0.0])), {"reduction": "none"}, category="clamp"),
            Case((a([1.5]), a([1.0])), expect_error="ValueError", category="range"),
            # hidden
            Case(
                (a([0.0, 1.0, 0.0, 1.0, 0.5]), a([1.0, 1.0, 0.0, 0.0, 0.5])),
                {"reduction": "none"},
                category="clamp",
            ),
            Case((a([1e-50, 1.0 - 1e-17]), a([1.0, 0.0])), {"reduction": "none"}, category="clamp"),
            Case((a([1e-30, 1e-40]), a([1.0, 1.0])), {"reduction": "none"}, category="clamp"),
            Case((a([0.0, 1.0]), a([0.25, 0.75])), {"reduction": "none"}, category="clamp"),
            Case((a([0.2, -0.1]), a([1.0, 0.0])), expect_error="ValueError", category="range"),
            Case(
                (a([[0.5, 1.0000001]]), a([[1.0, 1.0]])),
                expect_error="ValueError",
                category="range",
            ),
        ],
        messages=bce_messages,
    )
    x23 = a([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    t23 = a([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    sig = Test(
        "test_sigmoid_cross_entropy",
        "sigmoid_cross_entropy",
        2,
        [
            # visible
            Case((a([0.0]), a([1.0]))),
            # a 1-D mean before the multi-label mean: 'sum' for 'mean' fails here as a
            # reduction, while a mean over rows only (not N·C) fails just the multi-label one
            Case((a([2.0, -1.0]), a([1.0, 0.0])), category="reduction"),
            Case((x23, t23), {"reduction": "none"}, category="multilabel"),
            Case((x23, t23), category="multilabel"),
            # hidden
            Case((logits(9), hard(9)), category="random"),
            Case((logits(5, 4), hard(5, 4)), category="multilabel"),
            Case((logits(5, 4), hard(5, 4)), {"reduction": "sum"}, category="reduction"),
            Case((logits(3, 2), hard(3, 2)), {"reduction": "none"}, category="reduction"),
            Case((logits(6), rng.random(6)), {"reduction": "none"}, category="soft"),
            Case((a([0.0, 0.0]), a([0.0, 1.0])), {"reduction": "none"}, category="value"),
        ],
    )
    sig_stable = Test(
        "test_sigmoid_cross_entropy_stable",
        "sigmoid_cross_entropy",
        2,
        [
            # visible; reduction="none" throughout, so that a wrong 'mean' fails only the
            # reduction cases of test_sigmoid_cross_entropy, never as an overflow
            Case((a([1000.0, -1000.0]), a([0.0, 1.0])), {"reduction": "none"}, category="overflow"),
            Case((a([1000.0, -1000.0]), a([1.0, 0.0])), {"reduction": "none"}, category="overflow"),
            # hidden
            Case(
                (a([800.0, -800.0, 1e4, -1e4]), a([0.0, 1.0, 0.0, 1.0])),
                {"reduction": "none"},
                category="overflow",
            ),
            Case(
                (a([800.0, -800.0, 1e4, -1e4]), a([1.0, 0.0, 1.0, 0.0])),
                {"reduction": "none"},
                category="overflow",
            ),
            Case(
                (a([[40.0, -40.0], [745.0, -745.0]]), a([[0.0, 1.0], [1.0, 0.0]])),
                {"reduction": "none"},
                category="overflow",
            ),
            Case((a([1e4, -1e4]), a([0.5, 0.5])), {"reduction": "none"}, category="soft"),
        ],
    )
    return Battery(
        ASSIGNMENT,
        [sce, sce_stable, bce, bce_edges, sig, sig_stable],
        messages={
            "index": (
                "a class index outside 0 … C−1 (too large, or negative: numpy would "
                "silently count -1 from the end) must raise ValueError"
            ),
            "range": "probabilities outside [0, 1] must raise ValueError",
            "overflow": (
                "overflow, NaN or a wrong value for logits near ±1000: subtract each row's "
                "max before exponentiating (softmax), or use max(x, 0) − x·t + "
                "log1p(exp(−|x|)) (sigmoid); never compute exp of a large positive number"
            ),
            "large_gap": (
                "wrong loss when the true class is far below the top logit: log(softmax) "
                "underflows to log 0 = −inf; use log-sum-exp: loss = logsumexp(z) − z_y"
            ),
            "soft": (
                "wrong result for soft targets (values between 0 and 1): use the formula "
                "−[t log p + (1 − t) log(1 − p)] as is; do not round the target"
            ),
            "multilabel": (
                "wrong result for multi-label targets (N, C): every element is an "
                "independent binary problem, and 'mean' averages over all N·C elements"
            ),
        },
    )


BATTERY = _build()
