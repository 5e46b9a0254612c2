"""A catalogue of wrong answers to ps8_beyond, and of correct answers written differently.

Each wrong answer is code a student might really write: p_t^γ instead of (1 − p_t)^γ, α on
every term, a negative α used as a weight, log(sigmoid(x)) that overflows, a gradient
that treats the focusing factor as a constant, TensorFlow-style smoothing over the C − 1
wrong classes, a hinge that counts the true class or forgets to divide by C, the class
weight inside the square, ECE on the true class's probability, an unweighted average
of bins, [lo, hi) bins. Each must lose the points of the named test cell and get the
feedback that names its misconception; each alternative correct answer gets full marks.
"""

from __future__ import annotations

import pytest
from answers import Wrong, grade_source

PS8 = "ps8_beyond"

# Stable pieces shared by the focal-loss answers (what the notebook's hints suggest).
PIECES = """
def pieces(logits, target):
    x = np.asarray(logits, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    e = np.exp(-np.abs(x))
    sp_pos = np.maximum(x, 0.0) + np.log1p(e)
    sp_neg = np.maximum(-x, 0.0) + np.log1p(e)
    s_pos = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    s_neg = np.where(x >= 0, e / (1.0 + e), 1.0 / (1.0 + e))
    bce = t * sp_neg + (1.0 - t) * sp_pos
    q = s_pos * (1.0 - t) + s_neg * t
    return x, t, s_pos, s_neg, bce, q


def reduce(loss, reduction):
    if reduction == "mean":
        return np.mean(loss)
    if reduction == "sum":
        return np.sum(loss)
    return loss
"""


def focal(body: str) -> str:
    """A focal_loss answer: the shared pieces, then ``body`` computing ``loss``."""
    return (
        PIECES
        + """
def focal_loss(logits, target, *, alpha=0.25, gamma=2.0, reduction="none"):
    x, t, s_pos, s_neg, bce, q = pieces(logits, target)
"""
        + body
        + """
    return reduce(loss, reduction)
"""
    )


SOFTMAX_LOG = """
def log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def finish(losses, reduction):
    if reduction == "none":
        return losses
    return np.sum(losses) if reduction == "sum" else np.mean(losses)
"""


def hinge(body: str) -> str:
    """A multi_margin_loss answer computing per-sample ``losses`` in ``body``."""
    return (
        SOFTMAX_LOG
        + """
def multi_margin_loss(input, target, *, p=1, margin=1.0, weight=None, reduction="mean"):
    x = np.asarray(input, dtype=np.float64)
    y = np.asarray(target)
    n, c = x.shape
    rows = np.arange(n)
    w = np.ones(c) if weight is None else np.asarray(weight, dtype=np.float64)
"""
        + body
        + """
    return finish(losses, reduction)
"""
    )


def ece(body: str) -> str:
    """An expected_calibration_error answer with ``conf``/``correct`` set in ``body``."""
    return (
        """
def expected_calibration_error(probs, target, *, n_bins=15):
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(target)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
"""
        + body
    )


CORRECT_ECE_LOOP = """
    total = 0.0
    for b in range(n_bins):
        inside = (conf > edges[b]) & (conf <= edges[b + 1])
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return float(total)
"""

WRONG = [
    # focal_loss ------------------------------------------------------------------------
    Wrong(
        "focusing factor p_t^γ instead of (1 − p_t)^γ",
        PS8,
        "focal_loss",
        "test_focal_loss",
        "the focusing factor is (1 − p_t)^gamma",
        focal(
            """
    p_t = 1.0 - q
    loss = p_t**gamma * bce
    if alpha >= 0:
        loss = (alpha * t + (1.0 - alpha) * (1.0 - t)) * loss
"""
        ),
    ),
    Wrong(
        "alpha multiplies every term, positives and negatives alike",
        PS8,
        "focal_loss",
        "test_focal_loss",
        "alpha multiplies the positive terms",
        focal(
            """
    loss = q**gamma * bce
    if alpha >= 0:
        loss = alpha * loss
"""
        ),
    ),
    Wrong(
        "a negative alpha used as a weight instead of switching weighting off",
        PS8,
        "focal_loss",
        "test_focal_loss",
        "alpha < 0 means no weighting",
        focal(
            """
    loss = (alpha * t + (1.0 - alpha) * (1.0 - t)) * q**gamma * bce
"""
        ),
    ),
    Wrong(
        "log(sigmoid(x)) from a naive sigmoid: overflow and log 0 at ±1000",
        PS8,
        "focal_loss",
        "test_focal_loss_stable",
        "never take log(sigmoid(x))",
        """
def focal_loss(logits, target, *, alpha=0.25, gamma=2.0, reduction="none"):
    x = np.asarray(logits, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    p = 1.0 / (1.0 + np.exp(-x))
    bce = -(t * np.log(p) + (1.0 - t) * np.log(1.0 - p))
    p_t = p * t + (1.0 - p) * (1.0 - t)
    loss = (1.0 - p_t) ** gamma * bce
    if alpha >= 0:
        loss = (alpha * t + (1.0 - alpha) * (1.0 - t)) * loss
    if reduction == "mean":
        return np.mean(loss)
    return np.sum(loss) if reduction == "sum" else loss
""",
        passes=("test_focal_loss",),
    ),
    Wrong(
        "default reduction 'mean' (PyTorch's losses) instead of torchvision's 'none'",
        PS8,
        "focal_loss",
        "test_focal_loss",
        "torchvision's focal loss defaults to 'none'",
        PIECES
        + """
def focal_loss(logits, target, *, alpha=0.25, gamma=2.0, reduction="mean"):
    x, t, s_pos, s_neg, bce, q = pieces(logits, target)
    loss = q**gamma * bce
    if alpha >= 0:
        loss = (alpha * t + (1.0 - alpha) * (1.0 - t)) * loss
    return reduce(loss, reduction)
""",
    ),
    # focal_loss_grad ---------------------------------------------------------------------
    Wrong(
        "gradient that treats (1 − p_t)^γ as a constant",
        PS8,
        "focal_loss_grad",
        "test_focal_loss_grad",
        "the product rule adds the term",
        PIECES
        + """
def focal_loss_grad(logits, target, *, alpha=0.25, gamma=2.0, reduction="none"):
    x, t, s_pos, s_neg, bce, q = pieces(logits, target)
    grad = q**gamma * (s_pos * (1.0 - t) - s_neg * t)
    if alpha >= 0:
        grad = (alpha * t + (1.0 - alpha) * (1.0 - t)) * grad
    return grad / grad.size if reduction == "mean" else grad
""",
    ),
    # smoothed_cross_entropy -------------------------------------------------------------
    Wrong(
        "TensorFlow-style smoothing spread over the C − 1 wrong classes only",
        PS8,
        "smoothed_cross_entropy",
        "test_smoothed_cross_entropy",
        "on every class",
        SOFTMAX_LOG
        + """
def smoothed_cross_entropy(logits, target, *, label_smoothing=0.1, reduction="mean"):
    z = np.asarray(logits, dtype=np.float64)
    n, c = z.shape
    soft = np.full((n, c), label_smoothing / (c - 1))
    soft[np.arange(n), target] = 1.0 - label_smoothing
    return finish(-np.sum(soft * log_softmax(z), axis=1), reduction)
""",
    ),
    Wrong(
        "smoothing with a naive softmax: overflow at logits of 1000",
        PS8,
        "smoothed_cross_entropy",
        "test_smoothed_cross_entropy",
        "overflow",
        SOFTMAX_LOG
        + """
def smoothed_cross_entropy(logits, target, *, label_smoothing=0.1, reduction="mean"):
    z = np.asarray(logits, dtype=np.float64)
    n, c = z.shape
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(z)
        log_p = np.log(e / e.sum(axis=1, keepdims=True))
    soft = np.full((n, c), label_smoothing / c)
    soft[np.arange(n), target] += 1.0 - label_smoothing
    return finish(-np.sum(soft * log_p, axis=1), reduction)
""",
    ),
    # multi_margin_loss ------------------------------------------------------------------
    Wrong(
        "the true class's own term max(0, margin) counted",
        PS8,
        "multi_margin_loss",
        "test_multi_margin_loss",
        "the sum runs over the classes j ≠ y only",
        hinge(
            """
    z = margin - x[rows, y][:, None] + x
    losses = w[y] * np.sum(np.maximum(z, 0.0) ** p, axis=1) / c
"""
        ),
    ),
    Wrong(
        "hinges summed but not divided by the number of classes",
        PS8,
        "multi_margin_loss",
        "test_multi_margin_loss",
        "divides each sample's sum of hinges by the number of classes",
        hinge(
            """
    z = margin - x[rows, y][:, None] + x
    h = np.maximum(z, 0.0) ** p
    h[rows, y] = 0.0
    losses = w[y] * h.sum(axis=1)
"""
        ),
    ),
    Wrong(
        "class weight inside the square, (w_y·z)², as PyTorch's docs print it",
        PS8,
        "multi_margin_loss",
        "test_multi_margin_loss",
        "after the power",
        hinge(
            """
    z = margin - x[rows, y][:, None] + x
    h = np.maximum(w[y][:, None] * z, 0.0) ** p
    h[rows, y] = 0.0
    losses = h.sum(axis=1) / c
"""
        ),
    ),
    Wrong(
        "margin fixed at 1",
        PS8,
        "multi_margin_loss",
        "test_multi_margin_loss",
        "margin other than 1",
        hinge(
            """
    z = 1.0 - x[rows, y][:, None] + x
    h = np.maximum(z, 0.0) ** p
    h[rows, y] = 0.0
    losses = w[y] * h.sum(axis=1) / c
"""
        ),
    ),
    Wrong(
        "only the largest violation counted (Crammer–Singer, as optax and Keras)",
        PS8,
        "multi_margin_loss",
        "test_multi_margin_loss",
        "adds the hinges of every class j ≠ y",
        hinge(
            """
    z = margin - x[rows, y][:, None] + x
    h = np.maximum(z, 0.0) ** p
    h[rows, y] = 0.0
    losses = w[y] * h.max(axis=1) / c
"""
        ),
    ),
    Wrong(
        "weighted 'mean' divided by the sum of the weights, as weighted cross-entropy does",
        PS8,
        "multi_margin_loss",
        "test_multi_margin_loss",
        "does not divide by Σ w[y]",
        hinge(
            """
    z = margin - x[rows, y][:, None] + x
    h = np.maximum(z, 0.0) ** p
    h[rows, y] = 0.0
    losses = w[y] * h.sum(axis=1) / c
    if reduction == "mean":
        return np.sum(losses) / np.sum(w[y])
"""
        ),
    ),
    # expected_calibration_error ---------------------------------------------------------
    Wrong(
        "confidence taken as the probability of the true class",
        PS8,
        "expected_calibration_error",
        "test_expected_calibration_error",
        "its largest probability",
        ece(
            """
    conf = p[np.arange(len(y)), y]
    correct = (p.argmax(axis=1) == y).astype(np.float64)
"""
            + CORRECT_ECE_LOOP
        ),
    ),
    Wrong(
        "plain average of the bins' gaps, not weighted by their share of samples",
        PS8,
        "expected_calibration_error",
        "test_expected_calibration_error",
        "weighted by the bin's share",
        ece(
            """
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    gaps = []
    for b in range(n_bins):
        inside = (conf > edges[b]) & (conf <= edges[b + 1])
        if inside.any():
            gaps.append(abs(correct[inside].mean() - conf[inside].mean()))
    return float(np.mean(gaps))
"""
        ),
    ),
    Wrong(
        "bins [lo, hi) instead of (lo, hi]",
        PS8,
        "expected_calibration_error",
        "test_expected_calibration_error",
        "bins are (lo, hi]",
        ece(
            """
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    b = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for k in range(n_bins):
        inside = b == k
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return float(total)
"""
        ),
    ),
    Wrong(
        "n_bins ignored: always 15 bins",
        PS8,
        "expected_calibration_error",
        "test_expected_calibration_error",
        "n_bins other than 15",
        ece(
            """
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, 16)
    total = 0.0
    for b in range(15):
        inside = (conf > edges[b]) & (conf <= edges[b + 1])
        if b == 0:
            inside |= conf == 0
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return float(total)
"""
        ),
    ),
    Wrong(
        "empty bins averaged in, giving NaN",
        PS8,
        "expected_calibration_error",
        "test_expected_calibration_error",
        "skip empty bins",
        ece(
            """
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    total = 0.0
    with np.errstate(invalid="ignore"):
        for b in range(n_bins):
            inside = (conf > edges[b]) & (conf <= edges[b + 1])
            acc = correct[inside].mean() if inside.any() else np.nan
            mean_conf = conf[inside].mean() if inside.any() else np.nan
            total += inside.mean() * abs(acc - mean_conf)
    return float(total)
"""
        ),
    ),
]


@pytest.mark.parametrize("wrong", WRONG, ids=lambda w: w.name)
def test_wrong_answer_loses_points_with_the_right_message(wrong):
    """Does this wrong answer lose the named test cell's points, with the misconception named?"""
    verdicts = grade_source(wrong.assignment, wrong.function, wrong.source)
    verdict = verdicts[wrong.grade_id]
    assert verdict.score == 0, f"{wrong.name}: got {verdict.score} on {wrong.grade_id}"
    assert wrong.fragment in verdict.message, verdict.message
    for grade_id in wrong.passes:
        assert verdicts[grade_id].passed, f"{grade_id}: {verdicts[grade_id].message}"


def test_catalogue_is_large_enough():
    """Does the catalogue hold at least 12 wrong answers, covering every graded function?"""
    assert len(WRONG) >= 12
    assert {w.function for w in WRONG} == {
        "focal_loss",
        "focal_loss_grad",
        "smoothed_cross_entropy",
        "multi_margin_loss",
        "expected_calibration_error",
    }


RIGHT = [
    (
        "focal_loss",
        """
def focal_loss(logits, target, *, alpha=0.25, gamma=2.0, reduction="none"):
    x = np.asarray(logits, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    # log σ(x) = −logaddexp(0, −x): stable, and 1 − p_t from the two sigmoids
    log_sig_pos, log_sig_neg = -np.logaddexp(0.0, -x), -np.logaddexp(0.0, x)
    bce = -(t * log_sig_pos + (1.0 - t) * log_sig_neg)
    one_minus_pt = np.exp(log_sig_pos) * (1.0 - t) + np.exp(log_sig_neg) * t
    a_t = 1.0 if alpha < 0 else alpha * t + (1.0 - alpha) * (1.0 - t)
    loss = a_t * one_minus_pt**gamma * bce
    return {"mean": np.mean, "sum": np.sum}.get(reduction, lambda v: v)(loss)
""",
    ),
    (
        "multi_margin_loss",
        """
def multi_margin_loss(input, target, *, p=1, margin=1.0, weight=None, reduction="mean"):
    x = np.asarray(input, dtype=np.float64)
    losses = []
    for row, y in zip(x, target):
        others = np.delete(row, y)
        h = np.maximum(0.0, margin - row[y] + others) ** p
        w = 1.0 if weight is None else weight[y]
        losses.append(w * h.sum() / row.size)
    losses = np.array(losses)
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()
""",
    ),
    (
        "expected_calibration_error",
        """
def expected_calibration_error(probs, target, *, n_bins=15):
    p = np.asarray(probs, dtype=np.float64)
    conf = p.max(axis=1)
    correct = p.argmax(axis=1) == np.asarray(target)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    b = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    total = 0.0
    for k in np.unique(b):
        inside = b == k
        total += inside.sum() * abs(correct[inside].mean() - conf[inside].mean())
    return total / len(conf)
""",
    ),
]


@pytest.mark.parametrize(("function", "source"), RIGHT, ids=[r[0] for r in RIGHT])
def test_correct_alternative_gets_full_marks(function, source):
    """Does a correct answer written differently get full marks on every test cell?"""
    for grade_id, verdict in grade_source(PS8, function, source).items():
        assert verdict.passed, f"{grade_id}: {verdict.message}"
