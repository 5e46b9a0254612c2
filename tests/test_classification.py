"""Tests for autograder/classification.py: softmax, binary and sigmoid cross-entropy.

Oracles, all independent of the code under test: hand-computed values (the articles'
3-class example), a plain-numpy transcription of PyTorch's ``cross_entropy`` (LossNLL.cpp:
nll term + smoothing term, each with its own mean) that is valid for moderate logits,
textbook gradient formulas, central differences, mpmath for tiny values, and torch itself
when it happens to be importable (it is not a dependency).
"""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest

from autograder.classification import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    sigmoid_cross_entropy,
    sigmoid_cross_entropy_grad,
    softmax_cross_entropy,
    softmax_cross_entropy_grad,
    softmax_cross_entropy_value_and_grad,
)

LN2 = math.log(2.0)


# ------------------------------------------------------------------ independent oracles
def _naive_log_softmax(z):
    """log(exp(z) / Σ exp(z)): fine for the moderate logits (|z| < 30) the oracles get."""
    e = np.exp(z)
    return np.log(e / e.sum(axis=-1, keepdims=True))


def torch_port_ce(z, t, weight=None, ignore_index=-100, eps=0.0, reduction="mean"):
    """PyTorch's cross_entropy, transcribed term by term (nll + ε/C · smooth)."""
    z = np.asarray(z, dtype=float)
    t = np.asarray(t)
    c = z.shape[-1]
    w = np.ones(c) if weight is None else np.asarray(weight, dtype=float)
    logp = _naive_log_softmax(z)
    if t.shape == z.shape:
        q = t * (1 - eps) + eps / c
        per = -(logp * q * w).sum(axis=-1)
        if reduction == "none":
            return per
        return per.sum() / (z.size // c) if reduction == "mean" else per.sum()
    keep = t != ignore_index
    ts = np.where(keep, t, 0)
    w_y = np.where(keep, w[ts], 0.0)
    nll = np.where(keep, -w_y * np.take_along_axis(logp, ts[..., None], -1)[..., 0], 0.0)
    smooth = np.where(keep, -(logp * w).sum(axis=-1), 0.0)
    if reduction == "none":
        return (1 - eps) * nll + eps / c * smooth
    if reduction == "sum":
        return (1 - eps) * nll.sum() + eps / c * smooth.sum()
    with np.errstate(invalid="ignore"):
        return (1 - eps) * nll.sum() / w_y.sum() + eps / c * smooth.sum() / w_y.sum()


def textbook_ce_grad(z, t, weight=None, ignore_index=-100, eps=0.0, reduction="mean"):
    """(1−ε)·w_y·(p − e_y) + (ε/C)·Σ_c w_c (p − e_c) per sample; Σ w q·p − w q for soft t."""
    z = np.asarray(z, dtype=float)
    t = np.asarray(t)
    c = z.shape[-1]
    w = np.ones(c) if weight is None else np.asarray(weight, dtype=float)
    p = np.exp(_naive_log_softmax(z))
    if t.shape == z.shape:
        wq = w * (t * (1 - eps) + eps / c)
        g = wq.sum(axis=-1, keepdims=True) * p - wq
        return g / (z.size // c) if reduction == "mean" else g
    keep = t != ignore_index
    ts = np.where(keep, t, 0)
    w_y = np.where(keep, w[ts], 0.0)
    onehot = np.eye(c)[ts]
    g = (1 - eps) * w_y[..., None] * (p - onehot) + (eps / c) * (w.sum() * p - w)
    g = np.where(keep[..., None], g, 0.0)
    return g / w_y.sum() if reduction == "mean" else g


def central_difference(f, x, h=1e-6):
    """∂f/∂x by (f(x + h) − f(x − h)) / 2h, one coordinate at a time."""
    x = np.array(x, dtype=float)
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        out[i] = (f(x + e) - f(x - e)) / (2 * h)
    return out


def mp_tail(gap):
    """log1p(e^−gap) in mpmath: the loss of the dominant class at a logit gap ``gap``."""
    with mpmath.workdps(50):
        return float(mpmath.log1p(mpmath.exp(-mpmath.mpf(gap))))


# A batch that exercises every option: 5 samples, 4 classes, moderate logits.
RNG = np.random.default_rng(0)
Z = RNG.normal(size=(5, 4)) * 3
Y = np.array([0, 3, 1, 1, 2])
W = np.array([0.5, 2.0, 1.0, 3.0])
Q = RNG.dirichlet(np.ones(4), size=5)  # soft targets

CE_CONFIGS = [
    {},
    {"weight": W},
    {"ignore_index": 1},
    {"label_smoothing": 0.1},
    {"weight": W, "ignore_index": 1, "label_smoothing": 0.25},
    {"label_smoothing": 1.0},
]


# ------------------------------------------------------------- softmax cross-entropy
class TestSoftmaxCrossEntropyValues:
    def test_articles_three_class_example(self):
        """Do predictions (0.5, 0.4, 0.1) and (0.8, 0.1, 0.1) for class 0 cost ln 2 and 0.223?"""
        for probs, expected in (([0.5, 0.4, 0.1], LN2), ([0.8, 0.1, 0.1], -math.log(0.8))):
            z = np.log(probs)  # logits whose softmax is exactly these probabilities
            assert softmax_cross_entropy(z, 0) == pytest.approx(expected, rel=1e-15)
            soft = softmax_cross_entropy(z, [1.0, 0.0, 0.0])
            assert soft == pytest.approx(expected, rel=1e-15)
        assert round(float(softmax_cross_entropy(np.log([0.8, 0.1, 0.1]), 0)), 3) == 0.223

    def test_five_class_ranking(self):
        """Does the loss rank a true-class probability of 0.6 < 0.3 < 0.1 as −log p does?"""
        losses = [
            softmax_cross_entropy(np.log([p, *[(1 - p) / 4] * 4]), 0) for p in (0.6, 0.3, 0.1)
        ]
        np.testing.assert_allclose(losses, -np.log([0.6, 0.3, 0.1]), rtol=1e-14)

    def test_every_reduction_by_hand(self):
        """With p = (1/4, 3/4), are none/sum/mean = (ln 4, ln 4/3), their sum and average?"""
        z = np.array([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])
        y = np.array([0, 1])
        hand = np.array([math.log(4.0), math.log(4.0 / 3.0)])
        np.testing.assert_allclose(softmax_cross_entropy(z, y, reduction="none"), hand, 1e-15)
        assert softmax_cross_entropy(z, y, reduction="sum") == pytest.approx(hand.sum(), 1e-15)
        assert softmax_cross_entropy(z, y) == pytest.approx(hand.mean(), rel=1e-15)

    def test_weighted_mean_divides_by_target_weights(self):
        """Does the weighted mean divide by Σ w_y (here 2 + 1), not by N?"""
        z = np.array([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])
        got = softmax_cross_entropy(z, [0, 1], weight=[2.0, 1.0])
        expected = (2 * math.log(4.0) + math.log(4.0 / 3.0)) / 3
        assert got == pytest.approx(expected, rel=1e-15)

    def test_ignore_index_drops_samples(self):
        """Do ignored samples add 0, leave the mean's denominator, and match the subset?"""
        y = np.array([0, -100, 1, 1, -100])
        per = softmax_cross_entropy(Z, y, reduction="none")
        assert per[1] == 0.0 and per[4] == 0.0
        keep = y != -100
        assert softmax_cross_entropy(Z, y) == pytest.approx(
            softmax_cross_entropy(Z[keep], y[keep]), rel=1e-15
        )
        y2 = np.array([0, 3, 3, 1, 2])  # a custom ignore_index that is a valid class
        assert softmax_cross_entropy(Z, y2, ignore_index=3) == pytest.approx(
            softmax_cross_entropy(Z[[0, 3, 4]], y2[[0, 3, 4]]), rel=1e-15
        )

    def test_ignored_rows_are_never_read(self):
        """Does an ignored sample whose logits are NaN still add exactly 0?"""
        z = np.array([[np.nan, 0.0], [0.0, 0.0]])
        assert softmax_cross_entropy(z, [-100, 0]) == pytest.approx(LN2, rel=1e-15)
        np.testing.assert_array_equal(softmax_cross_entropy_grad(z, [-100, 0])[0], [0.0, 0.0])

    def test_all_ignored(self):
        """When every sample is ignored, is the mean NaN (0/0), the sum 0, the gradient 0?"""
        y = np.full(5, -100)
        assert np.isnan(softmax_cross_entropy(Z, y))
        assert softmax_cross_entropy(Z, y, reduction="sum") == 0.0
        np.testing.assert_array_equal(softmax_cross_entropy_grad(Z, y), np.zeros_like(Z))

    def test_label_smoothing_by_hand(self):
        """With p = (1/4, 3/4), target 1 and ε = 0.2, is the loss −(0.1 ln ¼ + 0.9 ln ¾)?"""
        z = [0.0, math.log(3.0)]
        expected = -(0.1 * math.log(0.25) + 0.9 * math.log(0.75))
        got = softmax_cross_entropy(z, 1, label_smoothing=0.2)
        assert got == pytest.approx(expected, rel=1e-15)

    def test_smoothed_index_equals_smoothed_onehot_without_weights(self):
        """Unweighted, is smoothing an index target the same as smoothing its one-hot?"""
        onehot = np.eye(4)[Y]
        for eps in (0.0, 0.1, 1.0):
            a = softmax_cross_entropy(Z, Y, label_smoothing=eps)
            b = softmax_cross_entropy(Z, onehot, label_smoothing=eps)
            assert a == pytest.approx(b, rel=1e-14)

    def test_weighted_index_and_onehot_means_differ_as_in_pytorch(self):
        """With weights, does the index mean divide by Σ w_y but the one-hot mean by N?"""
        onehot = np.eye(4)[Y]
        total = softmax_cross_entropy(Z, Y, weight=W, reduction="sum")
        assert softmax_cross_entropy(Z, Y, weight=W) == pytest.approx(total / W[Y].sum(), 1e-15)
        assert softmax_cross_entropy(Z, onehot, weight=W) == pytest.approx(total / 5, 1e-15)

    @pytest.mark.parametrize("opts", CE_CONFIGS)
    @pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
    def test_matches_pytorch_transcription(self, opts, reduction):
        """Does every option combination match the term-by-term port of PyTorch's formula?"""
        got = softmax_cross_entropy(Z, Y, reduction=reduction, **opts)
        ref_opts = {"eps": opts.get("label_smoothing", 0.0), "weight": opts.get("weight")}
        ref_opts["ignore_index"] = opts.get("ignore_index", -100)
        np.testing.assert_allclose(got, torch_port_ce(Z, Y, reduction=reduction, **ref_opts), 1e-13)
        if "ignore_index" not in opts:
            got = softmax_cross_entropy(Z, Q, reduction=reduction, **opts)
            ref = torch_port_ce(Z, Q, reduction=reduction, **ref_opts)
            np.testing.assert_allclose(got, ref, rtol=1e-13)

    def test_soft_target_minimum_is_entropy(self):
        """With logits = log t, is the loss H(t) (not 0), the minimum over logits?"""
        for t in Q:
            h = -np.sum(t * np.log(t))
            assert softmax_cross_entropy(np.log(t), t) == pytest.approx(h, rel=1e-14)
            assert softmax_cross_entropy(np.log(t) + 0.1 * RNG.normal(size=4), t) > h

    def test_soft_targets_are_not_renormalised(self):
        """Does a target of (2, 0) cost twice what (1, 0) costs?"""
        z = [0.3, -1.2]
        assert softmax_cross_entropy(z, [2.0, 0.0]) == 2 * softmax_cross_entropy(z, [1.0, 0.0])

    def test_shift_invariance(self):
        """Does adding a constant to every logit of a row leave the loss unchanged?"""
        for shift in (-700.0, 1e4):
            np.testing.assert_allclose(
                softmax_cross_entropy(Z + shift, Y, reduction="none"),
                softmax_cross_entropy(Z, Y, reduction="none"),
                rtol=1e-9 * abs(shift),  # the shift itself rounds the logits
            )


class TestSoftmaxCrossEntropyExtremes:
    @pytest.mark.parametrize("big", [800.0, 1e4])
    def test_huge_logits(self, big):
        """Do logits ±800 and ±1e4 give exact, finite losses (no overflow, no NaN)?"""
        z = np.array([[big, -big], [big, -big], [big, 0.0], [-big, -big]])
        got = softmax_cross_entropy(z, [0, 1, 1, 0], reduction="none")
        np.testing.assert_array_equal(got, [0.0, 2 * big, big, LN2])
        g = softmax_cross_entropy_grad(z, [0, 1, 1, 0], reduction="sum")
        np.testing.assert_array_equal(g, [[0, 0], [1, -1], [1, -1], [-0.5, 0.5]])

    @pytest.mark.parametrize("gap", [20.0, 40.0, 100.0, 700.0])
    def test_dominant_class_keeps_its_digits(self, gap):
        """Is the loss of a confident correct prediction log1p(e^−gap), not 0 (pytorch#113708)?"""
        expected = mp_tail(gap)
        got = softmax_cross_entropy([gap, 0.0], 0)
        assert got == pytest.approx(expected, rel=4e-16)
        g = softmax_cross_entropy_grad([gap, 0.0], 0)
        with mpmath.workdps(50):
            s = float(1 / (1 + mpmath.exp(mpmath.mpf(gap))))  # σ(−gap)
        np.testing.assert_allclose(g, [-s, s], rtol=4e-16)

    def test_masked_classes(self):
        """Do −inf logits act as masked classes: probability 0, loss inf only if targeted?"""
        z = np.array([[0.0, -np.inf, 0.0], [0.0, -np.inf, 0.0]])
        np.testing.assert_array_equal(
            softmax_cross_entropy(z, [0, 1], reduction="none"), [LN2, np.inf]
        )
        np.testing.assert_array_equal(softmax_cross_entropy_grad(z[:1], [0])[0], [-0.5, 0, 0.5])
        # a masked class with target probability 0 adds 0 (PyTorch: 0 · −inf = NaN)
        assert softmax_cross_entropy(z[0], [0.5, 0.0, 0.5]) == pytest.approx(LN2, rel=1e-15)

    def test_optax_896_masked_logit_with_zero_target(self):
        """Does a −inf logit whose target probability is 0 give loss 0 and gradient 0?"""
        z, t = [-np.inf, 0.0], [0.0, 1.0]
        assert softmax_cross_entropy(z, t) == 0.0
        np.testing.assert_array_equal(softmax_cross_entropy_grad(z, t), [0.0, 0.0])

    def test_nan_and_infinite_rows(self):
        """Do rows with NaN, +inf or all −inf logits give NaN for that sample only?"""
        z = np.array([[np.nan, 0.0], [np.inf, 0.0], [-np.inf, -np.inf], [0.0, 0.0]])
        per = softmax_cross_entropy(z, [0, 0, 0, 0], reduction="none")
        assert np.all(np.isnan(per[:3])) and per[3] == pytest.approx(LN2, rel=1e-15)
        g = softmax_cross_entropy_grad(z, [0, 0, 0, 0])
        assert np.all(np.isnan(g[:3])) and np.all(np.isfinite(g[3]))
        assert np.isnan(softmax_cross_entropy(z, [0, 0, 0, 0]))
        soft = softmax_cross_entropy(z, np.full((4, 2), 0.5), reduction="none")
        assert np.all(np.isnan(soft[:3]))

    def test_single_class(self):
        """With C = 1, is the loss 0 and the gradient 0 at any logit?"""
        z = np.array([[5.0], [-3.0]])
        np.testing.assert_array_equal(softmax_cross_entropy(z, [0, 0], reduction="none"), [0, 0])
        np.testing.assert_array_equal(softmax_cross_entropy_grad(z, [0, 0]), [[0.0], [0.0]])

    def test_ties(self):
        """Do tied maxima split the probability and give ln 2 for either tied class?"""
        z = np.array([3.0, 3.0, -np.inf])
        assert softmax_cross_entropy(z, 1) == pytest.approx(LN2, rel=1e-15)
        np.testing.assert_allclose(softmax_cross_entropy_grad(z, 0), [-0.5, 0.5, 0.0], 1e-15)


class TestSoftmaxCrossEntropyShapes:
    def test_one_dimensional(self):
        """Do (C,) logits with a scalar target give a scalar for every reduction?"""
        for reduction in ("mean", "sum", "none"):
            out = softmax_cross_entropy([0.0, 0.0], 1, reduction=reduction)
            assert np.ndim(out) == 0 and out == pytest.approx(LN2, rel=1e-15)
        assert softmax_cross_entropy_grad([0.0, 0.0], np.int64(1)).shape == (2,)

    def test_batch_of_one_and_leading_axes(self):
        """Do (1, C) and (2, 3, C) logits work with the class axis last?"""
        assert softmax_cross_entropy(Z[:1], Y[:1]) == pytest.approx(
            softmax_cross_entropy(Z[0], Y[0]), rel=1e-15
        )
        z3 = RNG.normal(size=(2, 3, 4))
        y3 = np.array([[0, 1, 2], [3, 0, 1]])
        assert softmax_cross_entropy(z3, y3, reduction="none").shape == (2, 3)
        assert softmax_cross_entropy(z3, y3) == pytest.approx(
            softmax_cross_entropy(z3.reshape(6, 4), y3.reshape(6)), rel=1e-15
        )
        assert softmax_cross_entropy_grad(z3, y3).shape == (2, 3, 4)

    def test_empty_batch(self):
        """Does an empty batch give NaN for "mean", 0 for "sum" and an empty gradient?"""
        z = np.zeros((0, 3))
        y = np.zeros(0, dtype=int)
        assert np.isnan(softmax_cross_entropy(z, y))
        assert softmax_cross_entropy(z, y, reduction="sum") == 0.0
        assert softmax_cross_entropy_grad(z, y).shape == (0, 3)
        assert np.isnan(softmax_cross_entropy(z, np.zeros((0, 3))))

    def test_dtypes(self):
        """Are float32 logits computed in float64, and unsigned / int32 indices accepted?"""
        got = softmax_cross_entropy(Z.astype(np.float32), Y.astype(np.uint8), reduction="none")
        assert got.dtype == np.float64
        expected = softmax_cross_entropy(Z.astype(np.float32).astype(np.float64), Y)
        assert softmax_cross_entropy(Z.astype(np.float32), Y.astype(np.int32)) == expected
        g = softmax_cross_entropy_grad(Z.astype(np.float32), Y)
        assert g.dtype == np.float64

    def test_inputs_not_modified(self):
        """Are the caller's logits, targets and weights left untouched?"""
        z, y, w, q = Z.copy(), Y.copy(), W.copy(), Q.copy()
        for opts in CE_CONFIGS:
            softmax_cross_entropy_value_and_grad(z, y, **opts)
            if "ignore_index" not in opts:
                softmax_cross_entropy_value_and_grad(z, q, **opts)
        for a, b in ((z, Z), (y, Y), (w, W), (q, Q)):
            np.testing.assert_array_equal(a, b)


class TestSoftmaxCrossEntropyGradient:
    @pytest.mark.parametrize("opts", CE_CONFIGS)
    @pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
    def test_against_textbook_formula(self, opts, reduction):
        """Does the gradient equal (1−ε)w_y(p − e_y) + (ε/C)(W p − w) (and Σwq·p − wq)?"""
        ref_opts = {"eps": opts.get("label_smoothing", 0.0), "weight": opts.get("weight")}
        ref_opts["ignore_index"] = opts.get("ignore_index", -100)
        got = softmax_cross_entropy_grad(Z, Y, reduction=reduction, **opts)
        ref = textbook_ce_grad(Z, Y, reduction=reduction, **ref_opts)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)
        if "ignore_index" not in opts:
            got = softmax_cross_entropy_grad(Z, Q, reduction=reduction, **opts)
            ref = textbook_ce_grad(Z, Q, reduction=reduction, **ref_opts)
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)

    @pytest.mark.parametrize("opts", CE_CONFIGS)
    def test_against_central_differences(self, opts):
        """Does the gradient of the mean loss agree with central differences?"""
        for target in (Y, Q) if "ignore_index" not in opts else (Y,):
            num = central_difference(lambda z, t=target: softmax_cross_entropy(z, t, **opts), Z)
            got = softmax_cross_entropy_grad(Z, target, **opts)
            np.testing.assert_allclose(got, num, atol=1e-8)

    @pytest.mark.parametrize("opts", CE_CONFIGS)
    @pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
    def test_value_and_grad_is_bitwise_the_pair(self, opts, reduction):
        """Does value_and_grad return exactly the loss and the gradient of the two functions?"""
        targets = (Y, Q) if "ignore_index" not in opts else (Y,)
        for target in targets:
            loss, grad = softmax_cross_entropy_value_and_grad(
                Z, target, reduction=reduction, **opts
            )
            np.testing.assert_array_equal(
                loss, softmax_cross_entropy(Z, target, reduction=reduction, **opts)
            )
            np.testing.assert_array_equal(
                grad, softmax_cross_entropy_grad(Z, target, reduction=reduction, **opts)
            )

    @pytest.mark.parametrize("opts", CE_CONFIGS)
    def test_value_and_grad_exponentiates_once(self, opts, monkeypatch):
        """Does value_and_grad take exactly one pass of exponentials over the logits?"""
        import autograder.classification as module

        calls = []
        real = module._shifted_exp

        def counting(z, axis):
            calls.append(z.shape)
            return real(z, axis)

        monkeypatch.setattr(module, "_shifted_exp", counting)
        softmax_cross_entropy_value_and_grad(Z, Y, **opts)
        assert calls == [Z.shape]

    def test_loss_is_minus_log_softmax_of_activations(self):
        """Is each sample's loss −log_softmax(z)[y] of autograder.activations (≤ 1 ULP)?"""
        from ulp import ulp_error

        from autograder.activations import log_softmax

        z = np.concatenate([Z, [[40.0, 0.0, -1.0, 3.0], [1e4, -1e4, 0.0, 1.0]]])
        y = np.concatenate([Y, [0, 3]])
        expected = -np.take_along_axis(log_softmax(z), y[:, None], axis=-1)[:, 0]
        got = softmax_cross_entropy(z, y, reduction="none")
        assert np.max(ulp_error(got, expected)) <= 1.0

    def test_rows_sum_to_zero(self):
        """Does each row of the gradient sum to 0 (softmax is shift invariant)?"""
        g = softmax_cross_entropy_grad(Z, Y, weight=W, label_smoothing=0.3, reduction="none")
        np.testing.assert_allclose(g.sum(axis=-1), 0.0, atol=1e-15)


class TestSoftmaxCrossEntropyErrors:
    @pytest.mark.parametrize(
        ("kwargs", "name"),
        [
            ({"target": np.array([0, 1])}, "target"),  # wrong batch length
            ({"target": np.zeros((5, 3))}, "target"),  # wrong class count
            ({"target": np.eye(4, dtype=int)[Y]}, "target"),  # probabilities must be floats
            ({"target": np.eye(4, dtype=bool)[Y]}, "target"),
            ({"target": Y.astype(float)}, "target"),  # float indices
            ({"target": Y.astype(bool)}, "target"),
            ({"target": np.array(["a"] * 5)}, "target"),
            ({"target": np.array([0, 1, 4, 0, 0])}, "target"),  # index C
            ({"target": np.array([0, -1, 2, 0, 0])}, "target"),  # negative, not ignore_index
            ({"weight": np.ones(3)}, "weight"),
            ({"weight": np.ones((1, 4))}, "weight"),
            ({"weight": np.array(["a"] * 4)}, "weight"),
            ({"label_smoothing": -0.1}, "label_smoothing"),
            ({"label_smoothing": 1.5}, "label_smoothing"),
            ({"label_smoothing": np.nan}, "label_smoothing"),
            ({"label_smoothing": "0.1"}, "label_smoothing"),
            ({"ignore_index": 1.5}, "ignore_index"),
            ({"ignore_index": True}, "ignore_index"),
            ({"reduction": "batchmean"}, "reduction"),
            ({"logits": Z.astype(complex)}, "logits"),
            ({"logits": 3.0, "target": 0}, "logits"),
            ({"logits": np.zeros((5, 0)), "target": np.zeros(5, dtype=int)}, "logits"),
        ],
    )
    def test_bad_arguments_raise_value_error_naming_them(self, kwargs, name):
        """Does each bad argument raise ValueError whose message names that argument?"""
        args = {"logits": Z, "target": Y, **kwargs}
        logits, target = args.pop("logits"), args.pop("target")
        for f in (
            softmax_cross_entropy,
            softmax_cross_entropy_grad,
            softmax_cross_entropy_value_and_grad,
        ):
            with pytest.raises(ValueError, match=name):
                f(logits, target, **args)

    def test_index_list_for_one_row_is_not_taken_for_probabilities(self):
        """With (C,) logits, is an integer target of shape (C,) refused, not read as probs?"""
        with pytest.raises(ValueError, match="target"):
            softmax_cross_entropy([0.0, 1.0], [0, 1])

    def test_ignore_index_is_not_out_of_range(self):
        """Is a negative target accepted when it equals ignore_index?"""
        assert np.isfinite(softmax_cross_entropy(Z, [0, -1, 2, 0, 0], ignore_index=-1))

    def test_options_are_keyword_only(self):
        """Is a positional weight refused?"""
        with pytest.raises(TypeError):
            softmax_cross_entropy(Z, Y, W)


# ------------------------------------------------------------------ binary cross-entropy
class TestBinaryCrossEntropy:
    def test_hand_values(self):
        """Are BCE(0.5, 1) = ln 2, BCE(0.8, 1) = −ln 0.8 and BCE(0.8, 0) = −ln 0.2?"""
        got = binary_cross_entropy([0.5, 0.8, 0.8, 0.25], [1.0, 1.0, 0.0, 0.5], reduction="none")
        soft = -(0.5 * math.log(0.25) + 0.5 * math.log(0.75))
        np.testing.assert_allclose(got, [LN2, -math.log(0.8), -math.log(0.2), soft], rtol=1e-15)

    def test_clamp_at_minus_100(self):
        """Do probs in {0, 1} with targets in {0, 1} cost exactly 100 or 0, never inf?"""
        p = np.array([0.0, 0.0, 1.0, 1.0])
        t = np.array([0.0, 1.0, 0.0, 1.0])
        np.testing.assert_array_equal(
            binary_cross_entropy(p, t, reduction="none"), [0, 100, 100, 0]
        )
        assert binary_cross_entropy(1e-300, 1.0) == 100.0  # log 1e-300 = −690.8, clamped

    def test_tiny_probability_keeps_digits(self):
        """Is BCE(1e−20, 0) = −log(1 − 1e−20) ≈ 1e−20, not 0 (log1p, not log(1 − p))?"""
        assert binary_cross_entropy(1e-20, 0.0) == pytest.approx(1e-20, rel=1e-15)

    def test_reductions_and_weights(self):
        """Do sum/mean reduce over every element, and does a (C,) weight broadcast over N?"""
        p = np.array([[0.5, 0.25], [0.75, 0.5]])
        t = np.array([[1.0, 0.0], [1.0, 1.0]])
        per = -(t * np.log(p) + (1 - t) * np.log(1 - p))
        assert binary_cross_entropy(p, t, reduction="sum") == pytest.approx(per.sum(), 1e-15)
        assert binary_cross_entropy(p, t) == pytest.approx(per.mean(), 1e-15)
        w = np.array([2.0, 0.5])
        np.testing.assert_allclose(
            binary_cross_entropy(p, t, weight=w, reduction="none"), w * per, rtol=1e-15
        )
        np.testing.assert_allclose(
            binary_cross_entropy_grad(p, t, weight=w, reduction="none"),
            w * binary_cross_entropy_grad(p, t, reduction="none"),
            rtol=1e-15,
        )

    def test_gradient(self):
        """Does the gradient equal −t/p + (1−t)/(1−p) and central differences, scaled by 1/n?"""
        p = np.array([0.1, 0.5, 0.9, 0.3])
        t = np.array([1.0, 0.0, 1.0, 0.4])
        textbook = -t / p + (1 - t) / (1 - p)
        np.testing.assert_allclose(binary_cross_entropy_grad(p, t), textbook / 4, rtol=1e-14)
        num = central_difference(lambda x: binary_cross_entropy(x, t, reduction="sum"), p)
        np.testing.assert_allclose(binary_cross_entropy_grad(p, t, reduction="sum"), num, 1e-8)

    def test_gradient_where_the_clamp_is_active(self):
        """At p ∈ {0, 1}, is the gradient PyTorch's finite (p − t)/1e−12 and 0 when p = t?"""
        p = np.array([0.0, 0.0, 1.0, 1.0])
        t = np.array([0.0, 1.0, 0.0, 1.0])
        bound = 1 / float(np.float32(1e-12))  # PyTorch's EPSILON reaches its kernel as float32
        np.testing.assert_array_equal(
            binary_cross_entropy_grad(p, t, reduction="sum"), [0.0, -bound, bound, 0.0]
        )
        assert bound == pytest.approx(1e12, rel=1e-8)

    @pytest.mark.parametrize("bad", [-0.1, 1.0000001, -np.inf, np.inf])
    def test_probs_outside_unit_interval_raise(self, bad):
        """Do probabilities outside [0, 1] raise ValueError naming `probs`?"""
        for f in (binary_cross_entropy, binary_cross_entropy_grad):
            with pytest.raises(ValueError, match="probs"):
                f([0.5, bad], [1.0, 0.0])

    def test_nan_propagates(self):
        """Does a NaN probability give a NaN loss for that element only?"""
        per = binary_cross_entropy([np.nan, 0.5], [1.0, 1.0], reduction="none")
        assert np.isnan(per[0]) and per[1] == pytest.approx(LN2, rel=1e-15)

    @pytest.mark.parametrize(
        ("kwargs", "name"),
        [
            ({"target": [1.0]}, "target"),
            ({"weight": [1.0, 2.0, 3.0]}, "weight"),
            ({"weight": np.ones((2, 2))}, "weight"),
            ({"reduction": "avg"}, "reduction"),
            ({"probs": [0.5j, 0.5]}, "probs"),
        ],
    )
    def test_bad_arguments(self, kwargs, name):
        """Does each bad argument raise ValueError naming it?"""
        args = {"probs": [0.5, 0.5], "target": [1.0, 0.0], **kwargs}
        probs, target = args.pop("probs"), args.pop("target")
        for f in (binary_cross_entropy, binary_cross_entropy_grad):
            with pytest.raises(ValueError, match=name):
                f(probs, target, **args)


# ------------------------------------------------------------------ sigmoid cross-entropy
X = RNG.normal(size=(4, 3)) * 4
T = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.3, 0.0, 0.9]])
PW = np.array([2.0, 0.5, 1.0])
SW = RNG.uniform(0.5, 2.0, size=(4, 3))


def naive_sigmoid_ce(x, t, weight=None, pos_weight=None):
    """−w[pw·t·log σ(x) + (1−t)·log(1 − σ(x))], the textbook formula (moderate x only)."""
    s = 1 / (1 + np.exp(-x))
    pw = 1.0 if pos_weight is None else pos_weight
    w = 1.0 if weight is None else weight
    return -w * (pw * t * np.log(s) + (1 - t) * np.log(1 - s))


class TestSigmoidCrossEntropy:
    def test_zero_logit(self):
        """At x = 0, is the loss ln 2 for any target and the gradient 0.5 − t?"""
        t = np.array([0.0, 0.3, 1.0])
        np.testing.assert_allclose(
            sigmoid_cross_entropy(np.zeros(3), t, reduction="none"), [LN2] * 3, rtol=1e-15
        )
        np.testing.assert_array_equal(
            sigmoid_cross_entropy_grad(np.zeros(3), t, reduction="sum"), 0.5 - t
        )

    @pytest.mark.parametrize(
        "opts", [{}, {"pos_weight": PW}, {"weight": SW}, {"weight": PW, "pos_weight": PW}]
    )
    @pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
    def test_multilabel_against_textbook(self, opts, reduction):
        """Do multi-label (N, C) losses with (C,) pos_weight match the textbook formula?"""
        per = naive_sigmoid_ce(X, T, **opts)
        expected = {"none": per, "sum": per.sum(), "mean": per.mean()}[reduction]
        got = sigmoid_cross_entropy(X, T, reduction=reduction, **opts)
        # the naive log(1 − σ(x)) itself loses ~|log(1 − σ)|⁻¹ ulps when σ is near 1
        np.testing.assert_allclose(got, expected, rtol=1e-11)

    @pytest.mark.parametrize(
        "opts", [{}, {"pos_weight": PW}, {"weight": SW}, {"weight": PW, "pos_weight": PW}]
    )
    def test_gradient(self, opts):
        """Is the gradient w[(1 + (pw − 1)t)σ(x) − pw·t] and equal to central differences?"""
        s = 1 / (1 + np.exp(-X))
        pw = opts.get("pos_weight", 1.0)
        w = opts.get("weight", 1.0)
        textbook = w * ((1 + (pw - 1) * T) * s - pw * T) / X.size
        np.testing.assert_allclose(sigmoid_cross_entropy_grad(X, T, **opts), textbook, 1e-12)
        num = central_difference(lambda x: sigmoid_cross_entropy(x, T, **opts), X)
        np.testing.assert_allclose(sigmoid_cross_entropy_grad(X, T, **opts), num, atol=1e-9)

    @pytest.mark.parametrize("big", [30.0, 800.0, 1e4, np.inf])
    def test_extreme_logits(self, big):
        """Do huge logits give 0 when right, |x| when wrong, and a finite gradient?"""
        x = np.array([big, -big, big, -big])
        t = np.array([1.0, 0.0, 0.0, 1.0])
        per = sigmoid_cross_entropy(x, t, reduction="none")
        g = sigmoid_cross_entropy_grad(x, t, reduction="sum")
        if big == 30.0:
            tail = mp_tail(30.0)  # log1p(e^−30)
            np.testing.assert_allclose(per, [tail, tail, 30 + tail, 30 + tail], rtol=4e-16)
        else:
            np.testing.assert_array_equal(per, [0.0, 0.0, big, big])
            np.testing.assert_array_equal(g, [0.0, 0.0, 1.0, -1.0])

    def test_small_gradient_keeps_digits(self):
        """Is the gradient at x = 40, t = 1 equal to −σ(−40) ≈ −4.25e−18, not 0?"""
        with mpmath.workdps(50):
            s = float(1 / (1 + mpmath.exp(40)))
        g = sigmoid_cross_entropy_grad([40.0, -40.0], [1.0, 0.0], reduction="sum")
        np.testing.assert_allclose(g, [-s, s], rtol=4e-16)

    def test_is_binary_cross_entropy_of_the_sigmoid(self):
        """For moderate logits, does it equal BCE(σ(x), t), and 2-class softmax CE?"""
        s = 1 / (1 + np.exp(-X))
        np.testing.assert_allclose(
            sigmoid_cross_entropy(X, T, reduction="none"),
            binary_cross_entropy(s, T, reduction="none"),
            rtol=1e-12,
        )
        x = X.ravel()
        two = np.stack([x, np.zeros_like(x)], axis=-1)
        np.testing.assert_allclose(
            sigmoid_cross_entropy(x, np.ones_like(x), reduction="none"),
            softmax_cross_entropy(two, np.zeros(x.size, dtype=int), reduction="none"),
            rtol=1e-14,
        )

    def test_pytorch_15655_logits_beat_probabilities(self):
        """At x = 200, t = 0, is the loss 200 from logits where BCE(σ(x)) is clamped at 100?"""
        assert sigmoid_cross_entropy(200.0, 0.0) == 200.0
        assert binary_cross_entropy(1 / (1 + np.exp(-200.0)), 0.0) == 100.0

    def test_nan_propagates(self):
        """Does a NaN logit give NaN loss and gradient for that element only?"""
        per = sigmoid_cross_entropy([np.nan, 0.0], [1.0, 1.0], reduction="none")
        g = sigmoid_cross_entropy_grad([np.nan, 0.0], [1.0, 1.0])
        assert np.isnan(per[0]) and np.isfinite(per[1])
        assert np.isnan(g[0]) and np.isfinite(g[1])

    def test_scalar_and_empty(self):
        """Does a 0-d logit give a scalar, and an empty batch NaN for "mean"?"""
        assert sigmoid_cross_entropy(0.0, 1.0, reduction="none") == pytest.approx(LN2, 1e-15)
        assert np.isnan(sigmoid_cross_entropy(np.zeros(0), np.zeros(0)))
        assert sigmoid_cross_entropy_grad(np.zeros((0, 3)), np.zeros((0, 3))).shape == (0, 3)

    @pytest.mark.parametrize(
        ("kwargs", "name"),
        [
            ({"target": T[:, :2]}, "target"),
            ({"weight": np.ones(2)}, "weight"),
            ({"pos_weight": np.ones(4)}, "pos_weight"),
            ({"pos_weight": np.ones((2, 4, 3))}, "pos_weight"),
            ({"reduction": None}, "reduction"),
            ({"logits": X.astype(complex)}, "logits"),
            ({"target": T.astype(str)}, "target"),
        ],
    )
    def test_bad_arguments(self, kwargs, name):
        """Does each bad argument raise ValueError naming it?"""
        args = {"logits": X, "target": T, **kwargs}
        logits, target = args.pop("logits"), args.pop("target")
        for f in (sigmoid_cross_entropy, sigmoid_cross_entropy_grad):
            with pytest.raises(ValueError, match=name):
                f(logits, target, **args)


# ------------------------------------------------------------------ torch, if present
def _torch():
    """Return the torch module, or skip: torch is an optional cross-check, never a dependency."""
    try:
        import torch
    except ImportError:
        pytest.skip("torch is not installed (optional semantic cross-check)")
    return torch


@pytest.mark.parametrize(
    ("opts", "soft", "reduction"),
    [
        (opts, soft, reduction)
        for opts, soft, reduction in itertools.product(
            CE_CONFIGS, [False, True], ["mean", "sum", "none"]
        )
        if not (soft and "ignore_index" in opts)  # no ignore_index for probability targets
    ],
)
def test_softmax_ce_matches_torch(opts, soft, reduction):
    """Where torch is importable, do loss and gradient equal F.cross_entropy's?"""
    torch = _torch()
    target = Q if soft else Y
    tz = torch.tensor(Z, requires_grad=True)
    t_opts = dict(opts)
    if "weight" in t_opts:
        t_opts["weight"] = torch.tensor(t_opts["weight"])
    tt = torch.tensor(target)
    out = torch.nn.functional.cross_entropy(tz, tt, reduction=reduction, **t_opts)
    out.sum().backward()
    loss, grad = softmax_cross_entropy_value_and_grad(Z, target, reduction=reduction, **opts)
    np.testing.assert_allclose(loss, out.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(grad, tz.grad.numpy(), rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize(
    "opts", [{}, {"pos_weight": PW}, {"weight": SW}, {"weight": PW, "pos_weight": PW}]
)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_sigmoid_ce_matches_torch(opts, reduction):
    """Where torch is importable, do loss and gradient equal F.b_c_e_with_logits's?"""
    torch = _torch()
    tx = torch.tensor(X, requires_grad=True)
    t_opts = {k: torch.tensor(v) for k, v in opts.items()}
    out = torch.nn.functional.binary_cross_entropy_with_logits(
        tx, torch.tensor(T), reduction=reduction, **t_opts
    )
    out.sum().backward()
    np.testing.assert_allclose(
        sigmoid_cross_entropy(X, T, reduction=reduction, **opts), out.detach().numpy(), 1e-13
    )
    np.testing.assert_allclose(
        sigmoid_cross_entropy_grad(X, T, reduction=reduction, **opts), tx.grad.numpy(), 1e-12
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_matches_torch(reduction):
    """Where torch is importable, do BCE and its gradient (clamps included) equal torch's?"""
    torch = _torch()
    p = np.array([0.0, 0.0, 1.0, 1.0, 0.3, 0.9, 1e-50, 0.5])
    t = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.2, 1.0, 0.5])
    w = np.linspace(0.5, 2.0, p.size)
    tp = torch.tensor(p, requires_grad=True)
    out = torch.nn.functional.binary_cross_entropy(
        tp, torch.tensor(t), weight=torch.tensor(w), reduction=reduction
    )
    out.sum().backward()
    np.testing.assert_allclose(
        binary_cross_entropy(p, t, weight=w, reduction=reduction), out.detach().numpy(), 1e-13
    )
    np.testing.assert_allclose(
        binary_cross_entropy_grad(p, t, weight=w, reduction=reduction), tp.grad.numpy(), 1e-13
    )
