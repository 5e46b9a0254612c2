"""Focal loss: binary cross-entropy on logits that down-weights the easy examples.

torchvision's ``sigmoid_focal_loss`` (Lin et al. 2017, RetinaNet) with the same
arguments and defaults. One sigmoid per element (binary or multi-label), so it lives
beside :func:`~autograder.classification.sigmoid_cross_entropy`, which it reduces to when
``gamma = 0`` and ``alpha < 0``.

Every factor is computed in extended precision from the logits, never from a rounded
probability: 1 − p_t = σ(x)(1 − t) + σ(−x)t is a sum of two non-negative terms (no
``1 − p`` that would cancel), and the cross-entropy is two softplus terms. The product is
rounded once to float64, so hard targets are within 2 ULP of the exact loss at any logit
(``tests/test_accuracy_beyond.py``).
"""

from __future__ import annotations

import numpy as np

from autograder._validation import as_float_array, check_reduction, check_same_shape, reduce

__all__ = ["focal_loss", "focal_loss_grad"]

_EXTENDED = np.longdouble


def _check_args(logits, target, alpha, gamma, reduction):
    """Validate the focal-loss arguments; return float64 arrays and the options."""
    x = as_float_array(logits, "logits")
    t = as_float_array(target, "target")
    check_same_shape(x, t, "logits", "target")
    if np.any((t < 0) | (t > 1)):  # NaN passes through, as everywhere in the package
        raise ValueError("target must hold values in [0, 1] (0/1 labels or soft targets)")
    try:
        alpha = float(alpha)
        gamma = float(gamma)
    except (TypeError, ValueError):
        raise ValueError(
            f"alpha and gamma must be real numbers, got alpha={alpha!r}, gamma={gamma!r}"
        ) from None
    if not alpha <= 1:  # also refuses NaN
        raise ValueError(f"alpha must be at most 1 (negative: no weighting), got {alpha!r}")
    if not (gamma >= 0 and np.isfinite(gamma)):
        raise ValueError(f"gamma must be a finite number >= 0, got {gamma!r}")
    return x, t, alpha, gamma, check_reduction(reduction)


def _pieces(x: np.ndarray, t: np.ndarray):
    """σ(x), σ(−x), softplus(x), softplus(−x) and 1 − p_t, all in extended precision.

    With e = exp(−|x|) ∈ [0, 1]: σ(|x|) = 1/(1 + e), σ(−|x|) = e/(1 + e) and
    softplus(±|x|) = max(±|x|, 0) + log1p(e); none of them overflows or cancels.
    """
    xe = x.astype(_EXTENDED)
    e = np.exp(-np.abs(xe))
    big, small = 1 / (1 + e), e / (1 + e)
    pos = xe >= 0
    s_pos = np.where(pos, big, small)  # σ(x)
    s_neg = np.where(pos, small, big)  # σ(−x)
    l1p = np.log1p(e)
    sp_pos = np.maximum(xe, 0) + l1p  # softplus(x) = −log σ(−x)
    sp_neg = np.maximum(-xe, 0) + l1p  # softplus(−x) = −log σ(x)
    te = t.astype(_EXTENDED)
    with np.errstate(invalid="ignore"):
        # 1 − p_t = σ(x)(1 − t) + σ(−x)t: each product is 0 when its coefficient is 0.
        q = np.where(te == 1, 0, s_pos * (1 - te)) + np.where(te == 0, 0, s_neg * te)
    return te, s_pos, s_neg, sp_pos, sp_neg, q


def _ce(te, sp_pos, sp_neg):
    """Binary cross-entropy on logits, t·softplus(−x) + (1 − t)·softplus(x), 0·inf = 0."""
    with np.errstate(invalid="ignore"):
        return np.where(te == 0, 0, te * sp_neg) + np.where(te == 1, 0, (1 - te) * sp_pos)


def _alpha_t(te, alpha: float):
    """α_t = α t + (1 − α)(1 − t), or 1 when α < 0 (no weighting)."""
    if alpha < 0:
        return 1
    return alpha * te + (1 - alpha) * (1 - te)


def focal_loss(logits, target, *, alpha=0.25, gamma=2.0, reduction="none"):
    r"""Sigmoid focal loss (Lin et al. 2017), torchvision's ``sigmoid_focal_loss``.

    .. math::

        \ell_i = \alpha_t\,(1 - p_t)^{\gamma}\,
                 \mathrm{BCE}(\mathrm{logits}_i, t_i), \qquad
        p_t = p\,t + (1 - p)(1 - t),\quad p = \sigma(\mathrm{logits}_i),

    with :math:`\alpha_t = \alpha t + (1 - \alpha)(1 - t)` (or 1 when α < 0) and
    BCE the binary cross-entropy on logits. The factor (1 − p_t)^γ is near 0 for an
    example the model already gets right (p_t → 1), so a flood of easy negatives (the
    background boxes of a detector) no longer drowns the rare hard ones. γ = 0 with
    α < 0 is exactly :func:`~autograder.classification.sigmoid_cross_entropy`.

    Parameters
    ----------
    logits : array_like, any shape
        Logits (not probabilities), one per element.
    target : array_like, same shape as ``logits``
        Targets in [0, 1], usually 0 or 1 (soft targets are allowed, as in torchvision).
    alpha : float, default 0.25
        Weight of the positive class, α ≤ 1; a negative value turns weighting off.
        (torchvision's default 0.25 weights *positives* down: with γ = 2 that was the
        best setting in the paper, because γ already removes the easy negatives.)
    gamma : float, default 2.0
        Focusing exponent γ ≥ 0; 0 gives the (α-weighted) cross-entropy.
    reduction : {"none", "mean", "sum"}, default "none"
        torchvision's default is ``"none"``, unlike PyTorch's losses.

    Returns
    -------
    numpy.ndarray or numpy.float64
        The per-element losses (shape of ``logits``) for ``"none"``, else a scalar.

    Examples
    --------
    >>> focal_loss([0.0, 3.0], [1.0, 1.0], alpha=-1.0, gamma=0.0)  # plain BCE
    array([0.69314718, 0.04858735])
    >>> focal_loss([3.0], [1.0], alpha=-1.0)  # an easy example costs 440× less
    array([0.00010928])
    >>> float(focal_loss(-800.0, 1.0, alpha=-1.0))  # far off: BCE = 800, (1 − p_t)² = 1
    800.0

    References
    ----------
    T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollár, "Focal Loss for Dense Object
    Detection", ICCV 2017. torchvision ``torchvision.ops.sigmoid_focal_loss``.

    Derived in chapter: ``book/imbalance_margins.md``.
    """
    x, t, alpha, gamma, reduction = _check_args(logits, target, alpha, gamma, reduction)
    te, _, _, sp_pos, sp_neg, q = _pieces(x, t)
    per = _alpha_t(te, alpha) * q**gamma * _ce(te, sp_pos, sp_neg)
    return reduce(np.asarray(per.astype(np.float64)) + 0.0, reduction)


def focal_loss_grad(logits, target, *, alpha=0.25, gamma=2.0, reduction="none"):
    r"""Gradient of :func:`focal_loss` with respect to ``logits``, same shape.

    With q = 1 − p_t = σ(x)(1 − t) + σ(−x)t, dq/dx = σ′(x)(1 − 2t) and
    d BCE/dx = σ(x) − t:

    .. math::

        \frac{\partial \ell}{\partial x} = \alpha_t\Big[
            \gamma\, q^{\gamma - 1}\, \sigma(x)\sigma(-x)(1 - 2t)\,\mathrm{BCE}
            + q^{\gamma}\,(\sigma(x) - t)\Big],

    derived with SymPy in :func:`autograder.derivations.focal_loss_grad`. The first
    term is the price of focusing: it pushes an easy example's logit *less* than plain
    cross-entropy would. σ(x) − t is σ(x) for t = 0 and −σ(−x) for t = 1, so a tiny
    gradient keeps its digits; the γ q^(γ−1) factor is taken as 0 when γ = 0.

    Parameters
    ----------
    logits, target, alpha, gamma, reduction
        As in :func:`focal_loss`; ``"mean"`` divides by the number of elements.

    Returns
    -------
    numpy.ndarray, shape of ``logits``

    Examples
    --------
    >>> focal_loss_grad([0.0, 3.0], [1.0, 1.0], alpha=-1.0, gamma=0.0)  # σ(x) − t
    array([-0.5       , -0.04742587])

    Derived in chapter: ``book/imbalance_margins.md``.
    """
    x, t, alpha, gamma, reduction = _check_args(logits, target, alpha, gamma, reduction)
    te, s_pos, s_neg, sp_pos, sp_neg, q = _pieces(x, t)
    # σ(x) − t without cancellation for hard targets.
    resid = np.where(te == 1, -s_neg, np.where(te == 0, s_pos, s_pos - te))
    with np.errstate(invalid="ignore", divide="ignore"):
        focus = (
            0
            if gamma == 0
            else gamma * q ** (gamma - 1) * (s_pos * s_neg) * (1 - 2 * te) * _ce(te, sp_pos, sp_neg)
        )
        # q = 0 only at an infinite logit with its hard target: the loss is flat there.
        focus = np.where(q == 0, 0, focus)
    g = _alpha_t(te, alpha) * (focus + q**gamma * resid)
    g = np.asarray(g.astype(np.float64)) + 0.0
    if reduction == "mean" and g.size:
        g = g / g.size
    return g
