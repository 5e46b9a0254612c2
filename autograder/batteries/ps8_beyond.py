"""Battery of ps8_beyond: focal loss, label smoothing, the multiclass hinge and calibration.

One :class:`~autograder.batteries.core.Test` per test cell of
``solutions/ps8_beyond/ps8_beyond.ipynb``. The expected values come from the reference
(:func:`autograder.focal_loss`, :func:`autograder.focal_loss_grad`,
:func:`autograder.multi_margin_loss`, :func:`autograder.expected_calibration_error`, and
:func:`autograder.softmax_cross_entropy` with ``label_smoothing`` for the student's
``smoothed_cross_entropy``), computed in the grader. The student versions take the
reference's signatures; ``smoothed_cross_entropy`` takes integer class targets only.

Each case's ``category`` names the misconception it probes. Within a test the formula's
own cases come first and the reduction cases last, so a wrong formula is never reported
as a wrong reduction:

- ``focusing``: the factor is (1 − p_t)^γ, not p_t^γ, and its derivative is part of the
  gradient (treating it as a constant drops a term);
- ``alpha_t``: α weights the positives and 1 − α the negatives;
- ``no_weighting``: α < 0 switches weighting off (torchvision's convention);
- ``smoothing``: PyTorch's smoothed target is (1 − ε)·one-hot + ε/C on *every* class;
- ``true_class`` / ``sum`` / ``classes`` / ``weight`` / ``weight_mean``: the hinge skips
  j = y, adds every violation (not the largest), divides by C, multiplies by w_y after
  the power, and ``"mean"`` averages over N even with weights;
- ``confidence`` / ``weighting`` / ``edges`` / ``empty`` / ``n_bins``: ECE uses the max
  probability, weights each bin by its share of samples, bins (lo, hi], skips empty
  bins, and uses ``n_bins`` bins.

No message prints a number computed from a hidden input.

>>> BATTERY.grade_ids
['test_focal_loss', 'test_focal_loss_stable', 'test_focal_loss_grad', \
'test_smoothed_cross_entropy', 'test_multi_margin_loss', 'test_expected_calibration_error']
>>> BATTERY.max_score
17.0
"""

from __future__ import annotations

import numpy as np

from autograder.batteries.core import Battery, Case, Test

ASSIGNMENT = "ps8_beyond"

MESSAGES = {
    "focusing": (
        "wrong result for gamma ≠ 0: the focusing factor is (1 − p_t)^gamma with "
        "p_t = p·t + (1 − p)(1 − t), which is small for an example the model already gets "
        "right; check you did not write p_t^gamma"
    ),
    "focusing_grad": (
        "wrong gradient for gamma ≠ 0: (1 − p_t)^gamma depends on the logit too, so the "
        "product rule adds the term gamma·(1 − p_t)^(gamma−1)·σ(x)σ(−x)·(1 − 2t)·BCE; "
        "treating the factor as a constant gives only (1 − p_t)^gamma·(σ(x) − t)"
    ),
    "alpha_t": (
        "wrong weighting: alpha multiplies the positive terms (t = 1) and 1 − alpha the "
        "negative ones (t = 0), i.e. alpha_t = alpha·t + (1 − alpha)(1 − t)"
    ),
    "no_weighting": (
        "wrong result for a negative alpha: as in torchvision, alpha < 0 means no "
        "weighting at all (alpha_t = 1), not a negative weight"
    ),
    "soft": (
        "wrong result for soft targets (between 0 and 1): apply the formulas with t as "
        "given, do not round it"
    ),
    "overflow": (
        "overflow, NaN or a wrong value for logits near ±1000: never take log(sigmoid(x)) "
        "or exp of a large positive number; use −log σ(x) = softplus(−x) = "
        "max(−x, 0) + log1p(exp(−|x|)) and σ(x) = 1/(1 + exp(−x)) only where it is safe"
    ),
    "smoothing": (
        "wrong result with label smoothing: the smoothed target is (1 − ε)·one_hot + ε/C "
        "on every class (the true class gets 1 − ε + ε/C), then the ordinary "
        "cross-entropy −Σ target·log_softmax(z); check you did not spread ε over the C − 1 "
        "wrong classes only"
    ),
    "true_class": (
        "wrong hinge: the sum runs over the classes j ≠ y only; the true class's own term "
        "max(0, margin) must not be added"
    ),
    "sum": (
        "wrong hinge: PyTorch adds the hinges of every class j ≠ y (Weston–Watkins); "
        "keeping only the largest violation is the Crammer–Singer loss (optax's "
        "multiclass_hinge_loss, Keras's CategoricalHinge), a different function"
    ),
    "classes": (
        "wrong scale: PyTorch divides each sample's sum of hinges by the number of classes "
        "C (and 'mean' then averages over the N samples)"
    ),
    "margin": "wrong result for a margin other than 1: use max(0, margin − x_y + x_j)",
    "squared": "wrong result for p = 2: square each hinge, max(0, margin − x_y + x_j)²",
    "weight": (
        "wrong result with class weights: multiply each sample's hinges by the weight of "
        "its *true* class, w[y], after the power (as PyTorch computes it)"
    ),
    "weight_mean": (
        "wrong 'mean' with class weights: multi_margin_loss averages the weighted losses "
        "over the N samples; it does not divide by Σ w[y] as the weighted cross_entropy does"
    ),
    "confidence": (
        "wrong ECE: a prediction's confidence is its largest probability (and its "
        "prediction the arg max), not the probability of the true class"
    ),
    "weighting": (
        "wrong ECE: each bin's gap |accuracy − confidence| is weighted by the bin's share "
        "of the samples, |B_b| / N; not a plain average over bins"
    ),
    "edges": (
        "wrong bin for a confidence exactly on a bin edge: bins are (lo, hi], so a "
        "confidence of exactly 0.5 with 2 bins belongs to the first bin; edges are "
        "np.linspace(0, 1, n_bins + 1)"
    ),
    "empty": ("NaN or a wrong ECE when some bins are empty: skip empty bins (their weight is 0)"),
    "n_bins": "wrong result for n_bins other than 15: use n_bins equal-width bins over [0, 1]",
}


#: The focal loss follows torchvision, whose default reduction differs from PyTorch's losses.
FOCAL_MESSAGES = {
    "reduction": (
        "wrong result for the `reduction` option: torchvision's focal loss defaults to "
        "'none' (one loss per element, shape of logits); 'mean' averages over every "
        "element and 'sum' adds them; a gradient is scaled the same way"
    ),
}


def _smoothed_reference(logits, target, *, label_smoothing=0.1, reduction="mean"):
    """The reference for the student's ``smoothed_cross_entropy`` (hard targets)."""
    from autograder import softmax_cross_entropy

    return softmax_cross_entropy(
        logits, target, label_smoothing=label_smoothing, reduction=reduction
    )


# --------------------------------------------------------------------------------------
# Recognising a slip from the numbers (Test.diagnose)
#
# Each misconception of this problem set is a definite alternative formula. When a case
# fails, the grader recomputes the known alternatives on that case's inputs; if the
# student's value is one of them, the message names that slip, whatever case caught it
# first (a hinge that counts the true class fails every case, the first included).


def _same(value, other) -> bool:
    value, other = np.asarray(value, dtype=np.float64), np.asarray(other, dtype=np.float64)
    return value.shape == other.shape and np.allclose(
        value, other, rtol=1e-7, atol=1e-7, equal_nan=True
    )


def _recognise(value, expected, variants, case=None) -> str | None:
    """The category of the first alternative that ``value`` reproduces (and the right
    answer does not), computed lazily; ``None`` if none does. The case's own category is
    tried first: on a small case two slips can give the same number, and then the one the
    case was built to show is the better guess."""
    if case is not None:
        variants = sorted(variants, key=lambda item: item[0] != case.category)
    for category, compute in variants:
        try:
            with np.errstate(all="ignore"):
                alternative = compute()
        except Exception:  # an alternative that does not apply to this case
            continue
        if _same(value, alternative) and not _same(expected, alternative):
            return category
    return None


def _reduced(per, reduction):
    if reduction == "mean":
        return np.mean(per)
    if reduction == "sum":
        return np.sum(per)
    return per


def _focal_parts(x, t):
    """1 − p_t and the binary cross-entropy, from the logits (trusted, grader-side)."""
    x, t = np.asarray(x, dtype=np.float64), np.asarray(t, dtype=np.float64)
    sp_pos, sp_neg = np.logaddexp(0.0, x), np.logaddexp(0.0, -x)
    q = np.exp(-sp_neg) * (1 - t) + np.exp(-sp_pos) * t
    return t, q, t * sp_neg + (1 - t) * sp_pos


def _diagnose_focal(value, expected, case) -> str | None:
    from autograder import focal_loss

    x, t = case.args
    alpha = case.kwargs.get("alpha", 0.25)
    gamma = case.kwargs.get("gamma", 2.0)
    reduction = case.kwargs.get("reduction", "none")
    tt, q, bce = _focal_parts(x, t)
    alpha_t = 1.0 if alpha < 0 else alpha * tt + (1 - alpha) * (1 - tt)

    def focal(factor=q, weight=alpha_t, how=reduction):
        return _reduced(weight * factor**gamma * bce, how)

    variants = [
        ("focusing", lambda: focal(factor=1 - q)),
        ("alpha_t", lambda: focal(weight=alpha if alpha >= 0 else 1.0)),
        ("no_weighting", lambda: focal(weight=alpha * tt + (1 - alpha) * (1 - tt))),
        ("soft", lambda: focal_loss(x, np.round(t), **case.kwargs)),
    ]
    if "reduction" not in case.kwargs:  # the default is torchvision's "none"
        variants.append(("reduction", lambda: focal(how="mean")))
    return _recognise(value, expected, variants, case)


def _diagnose_focal_grad(value, expected, case) -> str | None:
    from autograder import focal_loss_grad

    x, t = case.args
    alpha = case.kwargs.get("alpha", 0.25)
    gamma = case.kwargs.get("gamma", 2.0)
    reduction = case.kwargs.get("reduction", "none")
    tt, q, _ = _focal_parts(x, t)
    alpha_t = 1.0 if alpha < 0 else alpha * tt + (1 - alpha) * (1 - tt)
    scale = 1.0 / tt.size if reduction == "mean" else 1.0
    plain = focal_loss_grad(x, t, alpha=-1.0, gamma=gamma, reduction=reduction)
    sig_minus_t = np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=np.float64))) - tt
    return _recognise(
        value,
        expected,
        [
            ("focusing_grad", lambda: alpha_t * q**gamma * sig_minus_t * scale),
            ("alpha_t", lambda: (alpha if alpha >= 0 else 1.0) * plain),
            ("no_weighting", lambda: (alpha * tt + (1 - alpha) * (1 - tt)) * plain),
            ("soft", lambda: focal_loss_grad(x, np.round(t), **case.kwargs)),
        ],
        case,
    )


def _diagnose_smoothed(value, expected, case) -> str | None:
    from autograder import log_softmax

    z, y = case.args
    eps = case.kwargs.get("label_smoothing", 0.1)
    reduction = case.kwargs.get("reduction", "mean")
    log_p = log_softmax(np.asarray(z, dtype=np.float64))
    c = log_p.shape[1]
    onehot = np.eye(c)[np.asarray(y)]

    def against(target):
        return _reduced(-np.sum(target * log_p, axis=1), reduction)

    return _recognise(
        value,
        expected,
        [
            ("smoothing", lambda: against((1 - eps) * onehot + eps / (c - 1) * (1 - onehot))),
            ("smoothing", lambda: against(onehot + eps / c)),
            ("smoothing", lambda: against((1 - eps) * onehot)),
        ],
        case,
    )


def _diagnose_margin(value, expected, case) -> str | None:
    x, y = (np.asarray(a) for a in case.args)
    x = x.astype(np.float64)
    p = case.kwargs.get("p", 1)
    margin = case.kwargs.get("margin", 1.0)
    weight = case.kwargs.get("weight")
    reduction = case.kwargs.get("reduction", "mean")
    n, c = x.shape
    rows = np.arange(n)
    w = np.ones(c) if weight is None else np.asarray(weight, dtype=np.float64)

    def hinges(m=margin, power=p, inside=None):
        z = m - x[rows, y][:, None] + x
        if inside is not None:
            z = inside[:, None] * z
        h = np.maximum(z, 0.0) ** power
        h[rows, y] = 0.0
        return h

    def per(h, scale=True, weighted=True):
        out = h.sum(axis=1) / (c if scale else 1)
        return w[y] * out if weighted else out

    def reduced(values, by_weights=False):
        if reduction == "mean" and by_weights:
            return np.sum(values) / np.sum(w[y])
        return _reduced(values, reduction)

    return _recognise(
        value,
        expected,
        [
            ("true_class", lambda: reduced(per(hinges()) + w[y] * max(margin, 0.0) ** p / c)),
            ("classes", lambda: reduced(per(hinges(), scale=False))),
            ("sum", lambda: reduced(w[y] * hinges().max(axis=1) / c)),
            ("sum", lambda: reduced(w[y] * hinges().max(axis=1))),
            ("margin", lambda: reduced(per(hinges(m=1.0)))),
            ("squared", lambda: reduced(per(hinges(power=1)))),
            ("weight", lambda: reduced(per(hinges(inside=w[y]), weighted=False))),
            ("weight", lambda: reduced(per(hinges(), weighted=False))),
            ("weight_mean", lambda: reduced(per(hinges()), by_weights=True)),
        ],
        case,
    )


def _ece_variant(
    probs, target, n_bins, *, conf=None, weighted=True, closed_left=False, per_bin=False
):
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(target)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    conf = p.max(axis=1) if conf is None else conf
    if closed_left:
        b = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    else:
        edges = np.linspace(0.0, 1.0, n_bins + 1)
        b = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    gaps, shares = [], []
    for k in range(n_bins):
        inside = b == k
        if inside.any():
            gaps.append(abs(correct[inside].mean() - conf[inside].mean()))
            shares.append(inside.mean())
    if per_bin:  # every bin, empty ones included, weighted 1/n_bins
        return float(np.sum(gaps) / n_bins)
    return float(np.dot(shares, gaps)) if weighted else float(np.mean(gaps))


def _diagnose_ece(value, expected, case) -> str | None:
    probs, target = case.args
    n_bins = case.kwargs.get("n_bins", 15)
    p = np.asarray(probs, dtype=np.float64)
    if np.isnan(np.asarray(value, dtype=np.float64)).any():
        # NaN is the mean of an empty bin only where this case has one; else not this slip
        edges = np.linspace(0.0, 1.0, n_bins + 1)
        b = np.clip(np.searchsorted(edges, p.max(axis=1), side="left") - 1, 0, n_bins - 1)
        return "empty" if np.unique(b).size < n_bins else None
    true_prob = p[np.arange(len(p)), np.asarray(target)]
    return _recognise(
        value,
        expected,
        [
            ("confidence", lambda: _ece_variant(probs, target, n_bins, conf=true_prob)),
            ("weighting", lambda: _ece_variant(probs, target, n_bins, weighted=False)),
            ("weighting", lambda: _ece_variant(probs, target, n_bins, per_bin=True)),
            ("edges", lambda: _ece_variant(probs, target, n_bins, closed_left=True)),
            ("n_bins", lambda: _ece_variant(probs, target, 15)),
        ],
        case,
    )


def _build() -> Battery:
    rng = np.random.default_rng(20261202)
    a = np.array

    def logits(*shape):
        return 3.0 * rng.standard_normal(shape)

    def hard(*shape):
        return (rng.random(shape) < 0.3).astype(np.float64)

    def classes(n, c):
        return rng.integers(0, c, size=n)

    x4, t4 = a([-2.0, 0.0, 1.5, 3.0]), a([0.0, 1.0, 1.0, 0.0])
    plain = {"alpha": -1.0, "gamma": 0.0}

    def focal_cases() -> list[Case]:
        """Cases shared by the loss and its gradient, the formula's first.

        Every formula case asks for ``reduction="none"`` explicitly, so an answer whose
        only mistake is the default reduction fails the last case alone.
        """
        none = {"reduction": "none"}
        return [
            # visible
            Case((a([0.0, 3.0]), a([1.0, 1.0])), {**plain, **none}),
            Case((x4, t4), {"alpha": -1.0, **none}, category="focusing"),
            Case((x4, t4), {"gamma": 0.0, **none}, category="alpha_t"),
            Case((x4, t4), none, category="value"),
            # hidden
            Case(
                (logits(12), hard(12)), {"alpha": -1.0, "gamma": 3.0, **none}, category="focusing"
            ),
            Case(
                (logits(12), hard(12)), {"alpha": -1.0, "gamma": 0.5, **none}, category="focusing"
            ),
            Case((logits(12), hard(12)), {"alpha": 0.8, "gamma": 0.0, **none}, category="alpha_t"),
            Case((logits(12), np.zeros(12)), {"gamma": 0.0, **none}, category="alpha_t"),
            Case((logits(12), hard(12)), {"alpha": -0.5, **none}, category="no_weighting"),
            Case((logits(4, 3), hard(4, 3)), none, category="random"),
            Case((logits(10), rng.random(10)), none, category="soft"),
            Case((logits(3, 5), hard(3, 5)), {"reduction": "mean"}, category="reduction"),
            Case((logits(7), hard(7)), {"reduction": "sum"}, category="reduction"),
            Case((x4, t4), category="reduction"),  # the default: torchvision's "none"
        ]

    focal = Test(
        "test_focal_loss",
        "focal_loss",
        3,
        focal_cases(),
        messages=FOCAL_MESSAGES,
        diagnose=_diagnose_focal,
    )
    focal_stable = Test(
        "test_focal_loss_stable",
        "focal_loss",
        2,
        [
            # visible
            Case((a([1000.0, -1000.0]), a([1.0, 0.0])), category="overflow"),
            Case((a([-1000.0, 1000.0]), a([1.0, 0.0])), category="overflow"),
            # hidden
            Case(
                (a([800.0, -800.0, 1e4, -1e4, 40.0, -40.0]), a([0.0, 1.0, 0.0, 1.0, 1.0, 0.0])),
                {"alpha": -1.0},
                category="overflow",
            ),
            Case((a([745.0, -745.0]), a([0.5, 0.5])), category="overflow"),
        ],
        raise_on=("over", "invalid"),
        messages=FOCAL_MESSAGES,
    )
    focal_grad = Test(
        "test_focal_loss_grad",
        "focal_loss_grad",
        3,
        [
            *[
                Case(c.args, c.kwargs, category="focusing_grad") if c.category == "focusing" else c
                for c in focal_cases()
            ],
            Case((a([1000.0, -1000.0, 30.0]), a([0.0, 1.0, 1.0])), category="overflow"),
        ],
        messages=FOCAL_MESSAGES,
        diagnose=_diagnose_focal_grad,
    )
    z23 = a([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
    smoothed = Test(
        "test_smoothed_cross_entropy",
        "smoothed_cross_entropy",
        3,
        [
            # visible
            Case((z23, a([0, 2])), {"label_smoothing": 0.0}),
            Case((z23, a([0, 2])), category="smoothing"),
            Case((z23, a([0, 2])), {"label_smoothing": 0.3}, category="smoothing"),
            # hidden
            Case((logits(8, 5), classes(8, 5)), {"label_smoothing": 0.2}, category="smoothing"),
            Case((logits(6, 2), classes(6, 2)), {"label_smoothing": 0.5}, category="smoothing"),
            Case((logits(5, 4), classes(5, 4)), {"label_smoothing": 1.0}, category="smoothing"),
            Case(
                (a([[1000.0, 0.0, -1000.0]]), a([2])),
                {"label_smoothing": 0.1},
                category="overflow",
            ),
            Case(
                (logits(6, 3), classes(6, 3)),
                {"label_smoothing": 0.1, "reduction": "sum"},
                category="reduction",
            ),
            Case(
                (logits(6, 3), classes(6, 3)),
                {"label_smoothing": 0.1, "reduction": "none"},
                category="reduction",
            ),
        ],
        reference=_smoothed_reference,
        diagnose=_diagnose_smoothed,
    )
    scores = logits(10, 4)
    margin = Test(
        "test_multi_margin_loss",
        "multi_margin_loss",
        3,
        [
            # visible: PyTorch's documented example, then margins already met
            Case((a([[0.1, 0.2, 0.4, 0.8]]), a([3]))),
            Case((a([[3.0, 1.0, 0.5], [0.0, 0.2, 0.1]]), a([0, 1])), {"reduction": "none"}),
            # hidden
            Case((a([[2.0, 0.0, 0.0]]), a([0])), {"reduction": "none"}, category="true_class"),
            Case((scores, classes(10, 4)), {"reduction": "none"}, category="classes"),
            Case((logits(6, 7), classes(6, 7)), {"reduction": "none"}, category="classes"),
            # two violations of different sizes: their sum, not the largest
            Case((a([[0.0, 0.5, -0.2]]), a([0])), {"reduction": "none"}, category="sum"),
            Case((scores, classes(10, 4)), {"margin": 0.3, "reduction": "none"}, category="margin"),
            Case((scores, classes(10, 4)), {"p": 2, "reduction": "none"}, category="squared"),
            Case(
                (scores, classes(10, 4)),
                {"weight": a([1.0, 2.0, 0.5, 3.0]), "reduction": "none"},
                category="weight",
            ),
            Case(
                (scores, classes(10, 4)),
                {"p": 2, "weight": a([0.2, 1.0, 4.0, 1.5]), "reduction": "none"},
                category="weight",
            ),
            Case((scores, classes(10, 4)), category="reduction"),
            Case((scores, classes(10, 4)), {"reduction": "sum"}, category="reduction"),
            # no rng draw here, so the hidden inputs after it stay as they were
            Case(
                (scores, a([0, 1, 2, 3, 3, 3, 0, 1, 2, 3])),
                {"weight": a([1.0, 2.0, 0.5, 3.0])},
                category="weight_mean",
            ),
        ],
        diagnose=_diagnose_margin,
    )

    def softmax_rows(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    probs = softmax_rows(logits(200, 4))
    probs_target = classes(200, 4)
    ece = Test(
        "test_expected_calibration_error",
        "expected_calibration_error",
        3,
        [
            # one bin, none empty: a wrong accuracy or mean confidence fails here first
            Case((a([[0.9, 0.1], [0.6, 0.4], [0.8, 0.2]]), a([0, 1, 0])), {"n_bins": 1}),
            # visible: one bin (none empty), then two (one empty), then one-hot rows
            Case((a([[0.9, 0.1], [0.6, 0.4]]), a([0, 1])), {"n_bins": 1}),
            Case((a([[0.9, 0.1], [0.6, 0.4]]), a([0, 1])), {"n_bins": 2}, category="empty"),
            Case((np.eye(3)[[0, 1, 2]], a([0, 1, 2])), category="empty"),
            # hidden
            Case((a([[0.7, 0.3], [0.2, 0.8], [0.9, 0.1]]), a([1, 1, 0])), category="confidence"),
            Case((probs, probs_target), category="confidence"),
            # one right at 0.61, one wrong at 0.63: one bin of 15 pools them, 50 bins do not
            Case((a([[0.61, 0.39], [0.63, 0.37]]), a([0, 1])), {"n_bins": 50}, category="n_bins"),
            Case(
                (a([[0.95, 0.05], [0.92, 0.08], [0.91, 0.09], [0.55, 0.45]]), a([0, 1, 1, 0])),
                {"n_bins": 10},
                category="weighting",
            ),
            # a confidence exactly on an edge beside one in the next bin: (lo, hi] separates
            # them, [lo, hi) would pool them
            Case((a([[0.5, 0.5], [0.9, 0.1]]), a([0, 1])), {"n_bins": 2}, category="edges"),
            Case((a([[0.75, 0.25], [0.8, 0.2]]), a([0, 1])), {"n_bins": 4}, category="edges"),
            Case((probs[:5], probs_target[:5]), {"n_bins": 40}, category="empty"),
            Case((probs, probs_target), {"n_bins": 5}, category="n_bins"),
            Case((probs, probs_target), {"n_bins": 1}, category="n_bins"),
        ],
        diagnose=_diagnose_ece,
    )
    return Battery(
        ASSIGNMENT,
        [focal, focal_stable, focal_grad, smoothed, margin, ece],
        messages=MESSAGES,
    )


BATTERY = _build()
