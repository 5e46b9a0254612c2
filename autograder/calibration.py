"""Calibration: does a model's confidence match how often it is right?

A classifier trained to a low cross-entropy can still be *over-confident*: among the
predictions it makes with 95 % confidence, fewer than 95 % are correct. The expected
calibration error (Guo et al. 2017) measures the gap, averaged over confidence bins.
"""

from __future__ import annotations

import math

import numpy as np

from autograder._validation import as_probabilities

__all__ = ["calibration_bins", "expected_calibration_error"]


def _check_args(probs, target, n_bins):
    """Validate (N, C) probabilities, (N,) integer targets and a bin count."""
    p = as_probabilities(probs, "probs")
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"probs must have shape (N, C) with N, C >= 1, got {p.shape}")
    n, c = p.shape
    y = np.asarray(target)
    if y.dtype.kind not in "iu":
        raise ValueError(f"target must hold integer class indices, got dtype {y.dtype}")
    if y.shape != (n,):
        raise ValueError(f"target must have shape ({n},) for probs {p.shape}, got {y.shape}")
    if np.any((y < 0) | (y >= c)):
        raise ValueError(f"target must hold class indices in [0, {c - 1}]")
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    if np.any(np.isnan(p)):
        raise ValueError("probs must not contain NaN")
    return p, y.astype(np.intp), int(n_bins)


def _bin_index(conf: np.ndarray, n_bins: int) -> np.ndarray:
    """The bin of each confidence: b with conf in (edges[b], edges[b + 1]], 0 for conf 0."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # searchsorted(side="left") − 1 puts conf ∈ (edges[b], edges[b+1]] into bin b.
    return np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)


def calibration_bins(probs, target, *, n_bins=15):
    r"""Per-bin counts, accuracy and mean confidence: the data of a reliability diagram.

    The confidence of a prediction is its largest probability, its prediction the arg max
    (the first one on ties, as ``numpy.argmax``). The bin edges are
    ``numpy.linspace(0, 1, n_bins + 1)``; bin b holds the confidences in the half-open
    interval (edges[b], edges[b + 1]], as in Guo et al.'s code, and a confidence of
    exactly 0 (possible only for an all-zero row) goes into the first bin.

    Parameters
    ----------
    probs : array_like, shape (N, C)
        Predicted probabilities (rows need not sum to 1; they are not renormalised).
    target : array_like of int, shape (N,)
        True class indices.
    n_bins : int, default 15

    Returns
    -------
    edges : numpy.ndarray, shape (n_bins + 1,)
    count : numpy.ndarray of int, shape (n_bins,)
    accuracy : numpy.ndarray, shape (n_bins,)
        Fraction correct in each bin (NaN for an empty bin).
    confidence : numpy.ndarray, shape (n_bins,)
        Mean confidence in each bin (NaN for an empty bin).

    Examples
    --------
    >>> edges, count, acc, conf = calibration_bins([[0.9, 0.1], [0.6, 0.4]], [0, 1], n_bins=2)
    >>> count.tolist(), acc.tolist(), conf.tolist()
    ([0, 2], [nan, 0.5], [nan, 0.75])
    """
    p, y, n_bins = _check_args(probs, target, n_bins)
    conf = np.max(p, axis=1)
    correct = (np.argmax(p, axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    b = _bin_index(conf, n_bins)
    count = np.bincount(b, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.bincount(b, weights=correct, minlength=n_bins) / count
        confidence = np.bincount(b, weights=conf, minlength=n_bins) / count
    return edges, count, accuracy, confidence


def expected_calibration_error(probs, target, *, n_bins=15):
    r"""Expected calibration error (Guo et al. 2017) with equal-width confidence bins.

    .. math::

        \mathrm{ECE} = \sum_{b=1}^{B} \frac{|B_b|}{N}\,
                       \big|\operatorname{acc}(B_b) - \operatorname{conf}(B_b)\big|,

    where B_b is the set of samples whose confidence max_c p_{ic} lies in bin b,
    acc its fraction of correct arg max predictions and conf its mean confidence. Bins
    are (edges[b], edges[b + 1]] with ``edges = numpy.linspace(0, 1, n_bins + 1)``; see
    :func:`calibration_bins`. 0 means perfectly calibrated on these bins; the value
    depends on ``n_bins`` (15 is Guo et al.'s choice). Each bin's term is computed as
    \|#correct − Σ confidence\| / N with exact summation, so the result is within 2 ULP
    of the exact value for these bins, a nearly calibrated model included.

    Parameters
    ----------
    probs : array_like, shape (N, C)
        Predicted probabilities, not logits.
    target : array_like of int, shape (N,)
        True class indices.
    n_bins : int, default 15
        Number of equal-width bins over [0, 1].

    Returns
    -------
    numpy.float64
        A value in [0, 1].

    Examples
    --------
    >>> float(expected_calibration_error([[0.9, 0.1], [0.6, 0.4]], [0, 1], n_bins=2))
    0.25
    >>> float(expected_calibration_error([[1.0, 0.0], [0.0, 1.0]], [0, 1]))  # sure and right
    0.0

    References
    ----------
    C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of Modern Neural
    Networks", ICML 2017. M. P. Naeini, G. F. Cooper and M. Hauskrecht, "Obtaining Well
    Calibrated Probabilities Using Bayesian Binning", AAAI 2015.

    Derived in chapter: ``book/confidence_calibration.md``.
    """
    p, y, n_bins = _check_args(probs, target, n_bins)
    conf = np.max(p, axis=1)
    correct = np.argmax(p, axis=1) == y
    b = _bin_index(conf, n_bins)
    # |B_b|·|acc_b − conf_b| = |#correct_b − Σ conf|: summed exactly (math.fsum), so a
    # well-calibrated bin whose two terms nearly cancel keeps its digits.
    order = np.argsort(b, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(b[order]) != 0])
    gaps = [
        abs(math.fsum([float(np.sum(correct[members])), *(-conf[members])]))
        for members in np.split(order, starts[1:])
    ]
    return np.float64(math.fsum(gaps) / len(conf))
