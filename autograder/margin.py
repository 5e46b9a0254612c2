"""The multiclass hinge (margin) loss: PyTorch's ``multi_margin_loss``.

Softmax cross-entropy never stops pushing: every example, however well classified, keeps
a gradient p − y ≠ 0. The multiclass hinge loss is satisfied once the true class's score
beats every other score by ``margin``, and then its gradient is exactly 0: the comparison
CS231n draws between the SVM and softmax classifiers.
"""

from __future__ import annotations

import numpy as np

from autograder._validation import as_float_array, check_reduction, reduce

__all__ = ["multi_margin_loss", "multi_margin_loss_grad"]

_EXTENDED = np.longdouble


def _check_args(input, target, p, margin, weight, reduction):
    """Validate the arguments; return scores (N, C), targets (N,), options, 1-d flag."""
    x = as_float_array(input, "input")
    if x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise ValueError(f"input must have shape (N, C) or (C,) with C >= 1, got {x.shape}")
    squeeze = x.ndim == 1
    x2 = x[None, :] if squeeze else x
    n, c = x2.shape
    y = np.asarray(target)
    if y.dtype.kind not in "iu":
        raise ValueError(f"target must hold integer class indices, got dtype {y.dtype}")
    if y.shape != (() if squeeze else (n,)):
        expected = "()" if squeeze else f"({n},)"
        raise ValueError(f"target must have shape {expected} for input {x.shape}, got {y.shape}")
    y = y.reshape(n).astype(np.intp)
    if np.any((y < 0) | (y >= c)):
        raise ValueError(f"target must hold class indices in [0, {c - 1}], got {y.min()}…{y.max()}")
    if isinstance(p, bool) or p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    try:
        margin = float(margin)
    except (TypeError, ValueError):
        raise ValueError(f"margin must be a real number, got {margin!r}") from None
    if not np.isfinite(margin):
        raise ValueError(f"margin must be finite, got {margin!r}")
    w = None
    if weight is not None:
        w = as_float_array(weight, "weight")
        if w.shape != (c,):
            raise ValueError(f"weight must have shape ({c},), one per class, got {w.shape}")
    return x2, y, int(p), margin, w, check_reduction(reduction), squeeze


def _violations(x: np.ndarray, y: np.ndarray, margin: float) -> np.ndarray:
    """z_ij = margin − x_{i,y_i} + x_ij for j ≠ y_i, and 0 at j = y_i (never counted).

    Evaluated without rounding error to extended precision: margin − x_y and the sum with
    x_j are each split into a rounded value and its exact error (2Sum), so a violation
    that nearly cancels (a margin just met) keeps its digits and its sign.
    """
    rows = np.arange(x.shape[0])
    a = np.full_like(x, margin)
    b = np.broadcast_to(-x[rows, y][:, None], x.shape)
    with np.errstate(invalid="ignore"):
        s, e1 = _two_sum(a, b)
        t, e2 = _two_sum(s, x)
        err = e1.astype(_EXTENDED) + e2.astype(_EXTENDED)
    # An infinite score makes the 2Sum error NaN (inf − inf); the rounded sum t is then
    # already the exact answer (±inf, or NaN for inf − inf as in PyTorch).
    z = t.astype(_EXTENDED) + np.where(np.isfinite(t), err, 0)
    z[rows, y] = 0
    return z


def _two_sum(a: np.ndarray, b: np.ndarray):
    """a + b = s + e exactly (Knuth's 2Sum)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def multi_margin_loss(input, target, *, p=1, margin=1.0, weight=None, reduction="mean"):
    r"""Multiclass hinge loss with PyTorch's ``multi_margin_loss`` semantics.

    .. math::

        \ell_i = \frac{w_{y_i}}{C} \sum_{j \ne y_i}
                 \max\big(0,\ \mathrm{margin} - x_{i,y_i} + x_{ij}\big)^{p}

    Each violation is computed free of rounding (2Sum, extended precision) and the sum
    over classes is rounded once, so values are within 1 ULP of the exact loss, a margin
    met to the last bit included. The class weight multiplies the hinge *after* the
    power, as PyTorch computes it (its documentation writes the weight inside the max;
    the code, and this function, do not). The sum is divided by the number of classes
    C, and ``"mean"`` then averages over the N samples (not over Σ w, unlike the
    weighted cross-entropy).

    Parameters
    ----------
    input : array_like, shape (N, C) or (C,)
        Scores (logits) of each class; not probabilities.
    target : array_like of int, shape (N,) or ()
        The true class index y_i ∈ [0, C).
    p : {1, 2}, default 1
        1 gives the hinge, 2 the squared hinge.
    margin : float, default 1.0
        How far the true score must beat every other score to cost nothing.
    weight : array_like, shape (C,), optional
        Weight of each *true* class, w_{y_i}.
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    numpy.float64, or numpy.ndarray of shape (N,) (a 0-d value for (C,) input) for "none".

    Examples
    --------
    >>> float(multi_margin_loss([[0.1, 0.2, 0.4, 0.8]], [3]))  # PyTorch's own example
    0.325
    >>> float(multi_margin_loss([3.0, 1.0, 0.5], 0))  # every margin met: exactly 0
    0.0

    References
    ----------
    PyTorch ``torch.nn.MultiMarginLoss``; J. Weston and C. Watkins, "Support Vector
    Machines for Multi-Class Pattern Recognition", ESANN 1999; CS231n notes, "Linear
    classification: SVM and Softmax".

    Derived in chapter: ``book/imbalance_margins.md``.
    """
    x, y, p, margin, w, reduction, squeeze = _check_args(
        input, target, p, margin, weight, reduction
    )
    h = np.maximum(_violations(x, y, margin), 0)
    if p == 2:
        h = h * h
    per = np.sum(h, axis=1) / x.shape[1]
    if w is not None:
        per = w[y] * per
    per = per.astype(np.float64)  # the one rounding: extended sums, then float64
    if squeeze and reduction == "none":
        return per.reshape(())
    return reduce(per, reduction)


def multi_margin_loss_grad(input, target, *, p=1, margin=1.0, weight=None, reduction="mean"):
    r"""Gradient of :func:`multi_margin_loss` with respect to ``input``, same shape.

    For each violated class j ≠ y (z_j = margin − x_y + x_j > 0):

    .. math::

        \frac{\partial \ell}{\partial x_j} = \frac{w_y}{C}\, p\, z_j^{p-1},
        \qquad
        \frac{\partial \ell}{\partial x_y} = -\sum_{j \ne y} \frac{\partial \ell}{\partial x_j}.

    The hinge has a kink at z_j = 0 (the margin met exactly); there the subgradient 0 is
    used, as PyTorch does (it counts a class only when z_j > 0) and as everywhere in this
    package. For p = 2 the loss is differentiable there and 0 is the true derivative.

    Parameters
    ----------
    input, target, p, margin, weight, reduction
        As in :func:`multi_margin_loss`; ``"mean"`` divides by N.

    Returns
    -------
    numpy.ndarray, shape of ``input``

    Examples
    --------
    >>> multi_margin_loss_grad([[0.1, 0.2, 0.4, 0.8]], [3])
    array([[ 0.25,  0.25,  0.25, -0.75]])

    Derived in chapter: ``book/imbalance_margins.md``.
    """
    x, y, p, margin, w, reduction, squeeze = _check_args(
        input, target, p, margin, weight, reduction
    )
    n, c = x.shape
    z = _violations(x, y, margin)
    g = np.where(z > 0, 1 if p == 1 else 2 * z, 0) / c
    if w is not None:
        g = g * w[y][:, None]
    g[np.arange(n), y] = -np.sum(g, axis=1)
    g = g.astype(np.float64) + 0.0  # + 0.0: a true class with no violation gets 0, not −0
    if reduction == "mean" and n:
        g = g / n
    return g.reshape(c) if squeeze else g
