"""A catalogue of wrong answers to ps1–ps4, and of correct answers written differently.

Each wrong answer is the code a student might really write (naive softmax, log10 for ln,
sum for mean, BCE without the clamp, …). It must lose the points of the named test cell
and get the feedback that names its misconception. Each alternative correct answer
(loops, einsum, ``np.logaddexp``, other stable identities) must get full marks on every
test cell of its function: the battery grades behaviour, not the reference's text.
"""

from __future__ import annotations

import pytest
from answers import Wrong, grade_source

PS1, PS2, PS3, PS4 = (
    "ps1_information",
    "ps2_divergence",
    "ps3_softmax_sigmoid",
    "ps4_classification_losses",
)

WRONG = [
    # ps1_information ------------------------------------------------------------------
    Wrong(
        "self_information log10 for ln",
        PS1,
        "self_information",
        "test_self_information",
        "natural log",
        """
        def self_information(p, *, base=None):
            p = np.asarray(p, dtype=float)
            return -np.log10(p) if base is None else -np.log(p) / np.log(base)
    """,
    ),
    Wrong(
        "self_information log2 for ln",
        PS1,
        "self_information",
        "test_self_information",
        "not log2 or log10",
        """
        def self_information(p, *, base=None):
            p = np.asarray(p, dtype=float)
            return -np.log2(p) if base is None else -np.log(p) / np.log(base)
    """,
    ),
    Wrong(
        "self_information returns a list",
        PS1,
        "self_information",
        "test_self_information",
        "not a list",
        """
        def self_information(p, *, base=None):
            out = -np.log(np.asarray(p, dtype=float)) / (1.0 if base is None else np.log(base))
            return out.tolist()
    """,
    ),
    Wrong(
        "entropy renormalises",
        PS1,
        "entropy",
        "test_entropy",
        "do not renormalise",
        """
        def entropy(p, *, axis=-1, base=None):
            p = np.asarray(p, dtype=float)
            p = p / p.sum(axis=axis, keepdims=True)
            terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
            h = -terms.sum(axis=axis)
            return h if base is None else h / np.log(base)
    """,
    ),
    Wrong(
        "entropy forgets 0 log 0 = 0",
        PS1,
        "entropy",
        "test_entropy",
        "0·log 0 = 0",
        """
        def entropy(p, *, axis=-1, base=None):
            p = np.asarray(p, dtype=float)
            h = -np.sum(p * np.log(p), axis=axis)
            return h if base is None else h / np.log(base)
    """,
    ),
    Wrong(
        "entropy in bits by default",
        PS1,
        "entropy",
        "test_entropy",
        "natural log",
        """
        def entropy(p, *, axis=-1, base=2):
            p = np.asarray(p, dtype=float)
            terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
            return -terms.sum(axis=axis) / np.log(base)
    """,
    ),
    Wrong(
        "entropy ignores axis (always axis 0)",
        PS1,
        "entropy",
        "test_entropy_axis",
        "requested axis",
        """
        def entropy(p, *, axis=-1, base=None):
            p = np.asarray(p, dtype=float)
            terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
            h = -terms.sum(axis=0)
            return h if base is None else h / np.log(base)
    """,
    ),
    Wrong(
        "entropy ignores the axis argument (always the last axis)",
        PS1,
        "entropy",
        "test_entropy_axis",
        "requested axis",
        """
        def entropy(p, *, axis=-1, base=None):
            p = np.asarray(p, dtype=float)
            terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
            h = -terms.sum(axis=-1)
            return h if base is None else h / np.log(base)
    """,
    ),
    Wrong(
        "entropy sums the whole batch",
        PS1,
        "entropy",
        "test_entropy_axis",
        "expected shape",
        """
        def entropy(p, *, axis=-1, base=None):
            p = np.asarray(p, dtype=float)
            terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
            h = -terms.sum()
            return h if base is None else h / np.log(base)
    """,
    ),
    Wrong(
        "binary_entropy naive at the ends",
        PS1,
        "binary_entropy",
        "test_binary_entropy",
        "0·log 0 = 0",
        """
        def binary_entropy(p, *, base=None):
            p = np.asarray(p, dtype=float)
            h = -p * np.log(p) - (1 - p) * np.log(1 - p)
            return h if base is None else h / np.log(base)
    """,
    ),
    # ps2_divergence -------------------------------------------------------------------
    Wrong(
        "KL with p and q swapped",
        PS2,
        "kl_divergence",
        "test_kl_divergence",
        "FIRST argument",
        """
        def kl_divergence(p, q, *, axis=-1, base=None):
            p, q = np.asarray(q, dtype=float), np.asarray(p, dtype=float)
            with np.errstate(divide="ignore"):
                t = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / q), 0.0)
            d = t.sum(axis=axis)
            return d if base is None else d / np.log(base)
    """,
    ),
    Wrong(
        "KL gives nan where p = 0",
        PS2,
        "kl_divergence",
        "test_kl_divergence",
        "contributes 0",
        """
        def kl_divergence(p, q, *, axis=-1, base=None):
            p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
            d = np.sum(p * np.log(p / q), axis=axis)
            return d if base is None else d / np.log(base)
    """,
    ),
    Wrong(
        "KL ignores axis",
        PS2,
        "kl_divergence",
        "test_kl_divergence_axis",
        "requested axis",
        """
        def kl_divergence(p, q, *, axis=-1, base=None):
            p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
            with np.errstate(divide="ignore"):
                t = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / q), 0.0)
            d = t.sum(axis=-1)
            return d if base is None else d / np.log(base)
    """,
    ),
    Wrong(
        "cross-entropy clips q",
        PS2,
        "cross_entropy",
        "test_cross_entropy",
        "do not clip",
        """
        def cross_entropy(p, q, *, axis=-1, base=None):
            p = np.asarray(p, dtype=float)
            q = np.clip(np.asarray(q, dtype=float), 1e-12, 1.0)
            h = -np.sum(p * np.log(q), axis=axis)
            return h if base is None else h / np.log(base)
    """,
    ),
    Wrong(
        "cross-entropy in log10",
        PS2,
        "cross_entropy",
        "test_cross_entropy",
        "natural log",
        """
        def cross_entropy(p, q, *, axis=-1, base=None):
            p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
            with np.errstate(divide="ignore"):
                t = np.where(p > 0, -p * np.log10(np.where(p > 0, q, 1.0)), 0.0)
            h = t.sum(axis=axis)
            return h if base is None else h * np.log(10) / np.log(base)
    """,
    ),
    Wrong(
        "cross-entropy is the KL divergence",
        PS2,
        "cross_entropy",
        "test_cross_entropy",
        "wrong value",
        """
        def cross_entropy(p, q, *, axis=-1, base=None):
            p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
            with np.errstate(divide="ignore"):
                t = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / q), 0.0)
            h = t.sum(axis=axis)
            return h if base is None else h / np.log(base)
    """,
    ),
    # ps3_softmax_sigmoid --------------------------------------------------------------
    Wrong(
        "sigmoid as exp(z) / (1 + exp(z))",
        PS3,
        "sigmoid",
        "test_sigmoid",
        "max shift",
        """
        def sigmoid(z):
            e = np.exp(np.asarray(z, dtype=float))
            return e / (1 + e)
    """,
    ),
    Wrong(
        "sigmoid as 1 / (1 + exp(-z)): right values, but exp overflows for z near -1000",
        PS3,
        "sigmoid",
        "test_sigmoid",
        "floating-point over",
        """
        def sigmoid(z):
            return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))
    """,
    ),
    Wrong(
        "log_sigmoid as log(sigmoid)",
        PS3,
        "log_sigmoid",
        "test_log_sigmoid",
        "log1p",
        """
        def log_sigmoid(z):
            return np.log(1 / (1 + np.exp(-np.asarray(z, dtype=float))))
    """,
    ),
    Wrong(
        "log_sigmoid as -log(1 + exp(-z))",
        PS3,
        "log_sigmoid",
        "test_log_sigmoid",
        "-log(1 + exp(-z))",
        """
        def log_sigmoid(z):
            return -np.log(1 + np.exp(-np.asarray(z, dtype=float)))
    """,
    ),
    Wrong(
        "logsumexp without the max shift",
        PS3,
        "logsumexp",
        "test_logsumexp",
        "subtract",
        """
        def logsumexp(z, *, axis=-1):
            return np.log(np.sum(np.exp(np.asarray(z, dtype=float)), axis=axis))
    """,
    ),
    Wrong(
        "softmax without the max shift",
        PS3,
        "softmax",
        "test_softmax",
        "max shift",
        """
        def softmax(z, *, axis=-1):
            e = np.exp(np.asarray(z, dtype=float))
            return e / e.sum(axis=axis, keepdims=True)
    """,
    ),
    Wrong(
        "softmax over the whole array",
        PS3,
        "softmax",
        "test_softmax",
        "each row",
        """
        def softmax(z, *, axis=-1):
            z = np.asarray(z, dtype=float)
            e = np.exp(z - z.max())
            return e / e.sum()
    """,
    ),
    Wrong(
        "softmax returns float32",
        PS3,
        "softmax",
        "test_softmax",
        "float64",
        """
        def softmax(z, *, axis=-1):
            z = np.asarray(z, dtype=np.float32)
            e = np.exp(z - z.max(axis=axis, keepdims=True))
            return e / e.sum(axis=axis, keepdims=True)
    """,
    ),
    Wrong(
        "log_softmax as log(softmax)",
        PS3,
        "log_softmax",
        "test_log_softmax",
        "log(softmax",
        """
        def log_softmax(z, *, axis=-1):
            z = np.asarray(z, dtype=float)
            e = np.exp(z - z.max(axis=axis, keepdims=True))
            return np.log(e / e.sum(axis=axis, keepdims=True))
    """,
    ),
    Wrong(
        "softmax_jacobian with the sign flipped",
        PS3,
        "softmax_jacobian",
        "test_softmax_jacobian",
        "wrong sign",
        """
        def softmax_jacobian(z):
            z = np.asarray(z, dtype=float)
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            s = e / e.sum(axis=-1, keepdims=True)
            return s[..., :, None] * s[..., None, :] - s[..., :, None] * np.eye(s.shape[-1])
    """,
    ),
    Wrong(
        "softmax_jacobian without batches",
        PS3,
        "softmax_jacobian",
        "test_softmax_jacobian",
        "(N, C, C)",
        """
        def softmax_jacobian(z):
            z = np.asarray(z, dtype=float)
            e = np.exp(z - z.max())
            s = (e / e.sum()).ravel()
            return np.diag(s) - np.outer(s, s)
    """,
    ),
    Wrong(
        "softmax_jacobian with np.diag and np.outer (crashes on a batch)",
        PS3,
        "softmax_jacobian",
        "test_softmax_jacobian",
        "raised ValueError (on a 'batch' check)",
        """
        def softmax_jacobian(z):
            z = np.asarray(z, dtype=float)
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            s = e / e.sum(axis=-1, keepdims=True)
            return np.diag(s) - np.outer(s, s)
    """,
    ),
    # ps4_classification_losses --------------------------------------------------------
    Wrong(
        "softmax CE sums where the mean is asked",
        PS4,
        "softmax_cross_entropy",
        "test_softmax_cross_entropy",
        "'mean' averages",
        """
        def softmax_cross_entropy(logits, target, *, reduction="mean"):
            z = np.asarray(logits, dtype=float)
            z = z - z.max(axis=-1, keepdims=True)
            lp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
            losses = -lp[np.arange(len(z)), target]
            return losses if reduction == "none" else losses.sum()
    """,
    ),
    Wrong(
        "softmax CE without the max shift",
        PS4,
        "softmax_cross_entropy",
        "test_softmax_cross_entropy_stable",
        "max before exponentiating",
        """
        def softmax_cross_entropy(logits, target, *, reduction="mean"):
            z = np.asarray(logits, dtype=float)
            if np.any((target < 0) | (target >= z.shape[-1])):
                raise ValueError("bad class index")
            e = np.exp(z)
            losses = -np.log(e[np.arange(len(z)), target] / e.sum(axis=-1))
            return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]
    """,
    ),
    Wrong(
        "softmax CE as log of a stable softmax",
        PS4,
        "softmax_cross_entropy",
        "test_softmax_cross_entropy_stable",
        "log-sum-exp",
        """
        def softmax_cross_entropy(logits, target, *, reduction="mean"):
            z = np.asarray(logits, dtype=float)
            if np.any((target < 0) | (target >= z.shape[-1])):
                raise ValueError("bad class index")
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            p = e / e.sum(axis=-1, keepdims=True)
            losses = -np.log(p[np.arange(len(z)), target])
            return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]
    """,
    ),
    Wrong(
        "softmax CE accepts any class index",
        PS4,
        "softmax_cross_entropy",
        "test_softmax_cross_entropy_stable",
        "must raise ValueError",
        """
        def softmax_cross_entropy(logits, target, *, reduction="mean"):
            z = np.asarray(logits, dtype=float)
            z = z - z.max(axis=-1, keepdims=True)
            lp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
            losses = -lp[np.arange(len(z)), np.asarray(target) % z.shape[-1]]
            return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]
    """,
    ),
    Wrong(
        "BCE without the clamp",
        PS4,
        "binary_cross_entropy",
        "test_binary_cross_entropy_edges",
        "-100",
        """
        def binary_cross_entropy(probs, target, *, reduction="mean"):
            p, t = np.asarray(probs, dtype=float), np.asarray(target, dtype=float)
            if np.any((p < 0) | (p > 1)):
                raise ValueError("probs must be in [0, 1]")
            losses = -(t * np.log(p) + (1 - t) * np.log(1 - p))
            return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]
    """,
    ),
    Wrong(
        "BCE clipping probabilities (TensorFlow recipe)",
        PS4,
        "binary_cross_entropy",
        "test_binary_cross_entropy_edges",
        "-100",
        """
        def binary_cross_entropy(probs, target, *, reduction="mean"):
            p, t = np.asarray(probs, dtype=float), np.asarray(target, dtype=float)
            if np.any((p < 0) | (p > 1)):
                raise ValueError("probs must be in [0, 1]")
            p = np.clip(p, 1e-7, 1 - 1e-7)
            losses = -(t * np.log(p) + (1 - t) * np.log(1 - p))
            return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]
    """,
    ),
    Wrong(
        "BCE with log(1 - p) instead of -log(1 - p)",
        PS4,
        "binary_cross_entropy",
        "test_binary_cross_entropy",
        "wrong value",
        """
        def binary_cross_entropy(probs, target, *, reduction="mean"):
            p, t = np.asarray(probs, dtype=float), np.asarray(target, dtype=float)
            with np.errstate(divide="ignore"):
                log_p, log_q = np.maximum(np.log(p), -100), np.maximum(np.log(1 - p), -100)
            losses = -t * log_p + (1 - t) * log_q
            return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]
    """,
    ),
    Wrong(
        "BCE returns a list for 'none'",
        PS4,
        "binary_cross_entropy",
        "test_binary_cross_entropy",
        "not a list",
        """
        def binary_cross_entropy(probs, target, *, reduction="mean"):
            p, t = np.asarray(probs, dtype=float), np.asarray(target, dtype=float)
            with np.errstate(divide="ignore"):
                log_p, log_q = np.maximum(np.log(p), -100), np.maximum(np.log1p(-p), -100)
            losses = -(t * log_p + (1 - t) * log_q)
            return {"none": list(losses), "sum": losses.sum(), "mean": losses.mean()}[reduction]
    """,
    ),
    Wrong(
        "sigmoid CE through sigmoid then log",
        PS4,
        "sigmoid_cross_entropy",
        "test_sigmoid_cross_entropy_stable",
        "log1p(exp(−|x|))",
        """
        def sigmoid_cross_entropy(logits, target, *, reduction="mean"):
            x, t = np.asarray(logits, dtype=float), np.asarray(target, dtype=float)
            s = 1 / (1 + np.exp(-x))
            losses = -(t * np.log(s) + (1 - t) * np.log(1 - s))
            return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]
    """,
    ),
    Wrong(
        "multi-label mean over rows only",
        PS4,
        "sigmoid_cross_entropy",
        "test_sigmoid_cross_entropy",
        "all N·C elements",
        """
        def sigmoid_cross_entropy(logits, target, *, reduction="mean"):
            x, t = np.asarray(logits, dtype=float), np.asarray(target, dtype=float)
            losses = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
            if reduction == "none":
                return losses
            per_row = losses.sum(axis=-1) if losses.ndim > 1 else losses
            return per_row.sum() if reduction == "sum" else per_row.mean()
    """,
    ),
]


@pytest.mark.parametrize("wrong", WRONG, ids=[w.name for w in WRONG])
def test_wrong_answer_loses_points_with_its_message(wrong):
    """Does this wrong answer fail the right test cell, with feedback naming its mistake?"""
    verdicts = grade_source(wrong.assignment, wrong.function, wrong.source)
    verdict = verdicts[wrong.grade_id]
    assert verdict.score == 0, f"{wrong.name} passed {wrong.grade_id}"
    assert wrong.fragment in verdict.message, verdict.message


def test_catalogue_is_large_enough():
    """Does the ps1–ps4 catalogue hold at least 18 wrong answers over all four sets?"""
    assert len(WRONG) >= 18
    assert {w.assignment for w in WRONG} == {PS1, PS2, PS3, PS4}


def test_feedback_never_shows_hidden_inputs():
    """Does a wrong answer's feedback avoid printing arrays or the student's exception text?"""
    leaky = """
        def softmax(z, *, axis=-1):
            raise ValueError(f"hidden input: {z!r}")
    """
    message = grade_source(PS3, "softmax", leaky)["test_softmax"].message
    assert "ValueError" in message
    assert "hidden input" not in message and "array(" not in message


RIGHT = [
    (
        PS1,
        "self_information",
        """
        def self_information(p, *, base=None):
            p = np.asarray(p, dtype=float)
            with np.errstate(divide="ignore"):
                out = np.log(1.0 / p)           # log(1/p) = -log p, and 1/0 = inf
            return out / np.log(base) if base else out
    """,
    ),
    (
        PS1,
        "entropy",
        """
        import math

        def entropy(p, *, axis=-1, base=None):
            p = np.moveaxis(np.asarray(p, dtype=float), axis, -1)
            rows = p.reshape(-1, p.shape[-1])
            out = np.empty(len(rows))
            for i, row in enumerate(rows):      # plain loops, math.log, skipping zeros
                out[i] = -sum(x * math.log(x) for x in row if x > 0)
            if base is not None:
                out = out / math.log(base)
            return out.reshape(p.shape[:-1])
    """,
    ),
    (
        PS1,
        "binary_entropy",
        """
        def binary_entropy(p, *, base=None):
            p = np.asarray(p, dtype=float)
            both = np.stack([p, 1 - p])
            logs = np.log(both, out=np.zeros_like(both), where=both > 0)
            h = -np.einsum("k...,k...->...", both, logs)
            return h if base is None else h / np.log(base)
    """,
    ),
    (
        PS2,
        "kl_divergence",
        """
        def kl_divergence(p, q, *, axis=-1, base=None):
            p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
            logp = np.log(p, out=np.zeros_like(p), where=p > 0)
            with np.errstate(divide="ignore"):
                logq = np.log(q)
            # H(p, q) - H(p), term by term, with 0 where p = 0
            terms = np.where(p > 0, p * (logp - logq), 0.0)
            d = np.add.reduce(terms, axis=axis)
            return d if base is None else d / np.log(base)
    """,
    ),
    (
        PS2,
        "cross_entropy",
        """
        def cross_entropy(p, q, *, axis=-1, base=None):
            p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
            p, q = np.moveaxis(p, axis, 0), np.moveaxis(q, axis, 0)
            total = np.zeros(p.shape[1:])
            for pi, qi in zip(p, q):            # loop over the classes
                with np.errstate(divide="ignore"):
                    total = total + np.where(pi > 0, -pi * np.log(np.where(pi > 0, qi, 1)), 0)
            return total if base is None else total / np.log(base)
    """,
    ),
    (
        PS3,
        "sigmoid",
        """
        def sigmoid(z):
            return 0.5 + 0.5 * np.tanh(0.5 * np.asarray(z, dtype=float))
    """,
    ),
    (
        PS3,
        "log_sigmoid",
        """
        def log_sigmoid(z):
            return -np.logaddexp(0.0, -np.asarray(z, dtype=float))
    """,
    ),
    (
        PS3,
        "logsumexp",
        """
        def logsumexp(z, *, axis=-1):
            return np.logaddexp.reduce(np.asarray(z, dtype=float), axis=axis)
    """,
    ),
    (
        PS3,
        "softmax",
        """
        def softmax(z, *, axis=-1):
            z = np.asarray(z, dtype=float)
            return np.exp(z - np.logaddexp.reduce(z, axis=axis, keepdims=True))
    """,
    ),
    (
        PS3,
        "log_softmax",
        """
        def log_softmax(z, *, axis=-1):
            z = np.asarray(z, dtype=float)
            return z - np.logaddexp.reduce(z, axis=axis, keepdims=True)
    """,
    ),
    (
        PS3,
        "softmax_jacobian",
        """
        def softmax_jacobian(z):
            z = np.asarray(z, dtype=float)
            s = np.exp(z - np.logaddexp.reduce(z, axis=-1, keepdims=True))
            eye = np.eye(s.shape[-1])
            return np.einsum("...i,ij->...ij", s, eye) - np.einsum("...i,...j->...ij", s, s)
    """,
    ),
    (
        PS4,
        "softmax_cross_entropy",
        """
        def softmax_cross_entropy(logits, target, *, reduction="mean"):
            z = np.asarray(logits, dtype=float)
            target = np.asarray(target)
            if target.min() < 0 or target.max() >= z.shape[1]:
                raise ValueError("target out of range")
            picked = np.take_along_axis(z, target[:, None], axis=1)[:, 0]
            losses = np.logaddexp.reduce(z, axis=1) - picked
            if reduction == "none":
                return losses
            return losses.sum() / (len(losses) if reduction == "mean" else 1)
    """,
    ),
    (
        PS4,
        "binary_cross_entropy",
        """
        def binary_cross_entropy(probs, target, *, reduction="mean"):
            p, t = np.asarray(probs, dtype=float), np.asarray(target, dtype=float)
            if not np.all((0 <= p) & (p <= 1)):
                raise ValueError("probs must lie in [0, 1]")
            with np.errstate(divide="ignore"):
                pos = np.clip(np.log(p), -100, None)
                neg = np.clip(np.log(1 - p), -100, None)
            losses = -(t * pos + (1 - t) * neg)
            if reduction == "none":
                return losses
            return float(losses.sum() if reduction == "sum" else losses.mean())
    """,
    ),
    (
        PS4,
        "sigmoid_cross_entropy",
        """
        def sigmoid_cross_entropy(logits, target, *, reduction="mean"):
            x, t = np.asarray(logits, dtype=float), np.asarray(target, dtype=float)
            # t softplus(-x) + (1 - t) softplus(x), softplus(x) = logaddexp(0, x)
            losses = t * np.logaddexp(0, -x) + (1 - t) * np.logaddexp(0, x)
            return {"none": losses, "sum": np.sum(losses), "mean": np.mean(losses)}[reduction]
    """,
    ),
]


@pytest.mark.parametrize(
    ("assignment", "function", "source"), RIGHT, ids=[f"{a}.{f}" for a, f, _ in RIGHT]
)
def test_correct_answer_written_differently_gets_full_marks(assignment, function, source):
    """Does a correct answer that looks nothing like the reference pass every test cell?"""
    for grade_id, verdict in grade_source(assignment, function, source).items():
        assert verdict.passed, f"{grade_id}: {verdict.message}"
