"""Classification losses (softmax, binary and sigmoid cross-entropy) and their gradients.

The semantics are PyTorch's (``torch.nn.functional.cross_entropy``,
``binary_cross_entropy`` and ``binary_cross_entropy_with_logits``), including weights,
``ignore_index``, label smoothing, ``pos_weight`` and what ``reduction="mean"`` divides by,
so that students meet the same conventions later. The class axis is the last axis.

Every ``*_grad`` function returns ∂L/∂(first argument) with that argument's shape, scaled
by the reduction; ``"none"`` gives each sample's own gradient (as ``"sum"`` does).

Precision: everything is computed in float64, float32 input included (it is converted
first). Computing float32 input in float32, as PyTorch does, would be faster, but the
graders compare against these values and the accuracy contract of DESIGN.md (≤ 2 ULP
against mpmath) is a float64 contract; ``benchmarks/reference.py`` measures the cost.

Accuracy comes from three identities, each noted where it is used:

* ``log softmax(z)_y = (z_y − m) − log1p(Σ_{j≠k} e^{z_j − m})`` with ``m = z_k`` the row
  maximum (the max shift plus ``log1p``, shared with :mod:`autograder.activations`), so the
  dominant class keeps its tiny loss (4.25e−18 at a logit gap of 40, where PyTorch gives 0);
* ``p_k − 1 = −Σ_{j≠k} p_j`` for the dominant class of the softmax gradient;
* ``t·softplus(−x) + (1 − t)·softplus(x)`` for the sigmoid loss, never ``log(1 − σ(x))``,
  and its gradient ``σ(x)`` for t = 0 and ``−σ(−x)`` for t = 1, never ``σ(x) − 1``.

Where PyTorch returns NaN for a limit that is well defined, these functions return the
limit (each case is tested): a term whose target weight is 0 adds 0 even when its log is
−inf (a masked −inf logit with target probability 0, optax#896; an infinite logit with
the matching hard target in the sigmoid loss), and an ignored sample gets a zero gradient
even when its logits are NaN. :func:`binary_cross_entropy` uses ``log1p(−p)`` where
PyTorch uses ``log(1 − p)``: the same clamp, more digits for tiny ``p``.

Derived in chapter: book/cross_entropy_meets_softmax.md
"""

from __future__ import annotations

import numbers

import numpy as np

from autograder._validation import (
    as_float_array,
    as_probabilities,
    check_reduction,
    check_same_shape,
    reduce,
)
from autograder.activations import _shifted_exp, sigmoid, softplus

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "sigmoid_cross_entropy",
    "sigmoid_cross_entropy_grad",
    "softmax_cross_entropy",
    "softmax_cross_entropy_grad",
    "softmax_cross_entropy_value_and_grad",
]

#: PyTorch clamps each log of binary_cross_entropy at −100 ...
_LOG_CLAMP = -100.0
#: ... and divides its gradient by max(p(1 − p), 1e−12) (EPSILON in Loss.cpp), a bound that
#: reaches the kernel as the float32 nearest 1e−12; used the same way so the two agree.
_BCE_GRAD_EPS = float(np.float32(1e-12))


# --------------------------------------------------------------------- argument checks
def _check_label_smoothing(value) -> float:
    """Return ``label_smoothing`` as a float in [0, 1], else raise naming it."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ValueError(f"label_smoothing must be a number in [0, 1], got {value!r}")
    eps = float(value)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {value!r}")
    return eps


def _check_ignore_index(value) -> int:
    """Return ``ignore_index`` as an int, else raise naming it."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise ValueError(f"ignore_index must be an integer, got {value!r}")
    return int(value)


def _check_broadcast(w, shape: tuple, name: str, like: str) -> np.ndarray:
    """Return ``w`` as float64, checking it broadcasts to ``shape`` without growing it."""
    w = as_float_array(w, name)
    try:
        ok = np.broadcast_shapes(w.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name} of shape {w.shape} does not broadcast to {like} {shape}")
    return w


def _class_weight(weight, c: int) -> np.ndarray | None:
    """Return the per-class ``weight`` as a float64 vector of length C (or None)."""
    if weight is None:
        return None
    w = as_float_array(weight, "weight")
    if w.shape != (c,):
        raise ValueError(f"weight must have shape (C,) = ({c},), one per class, got {w.shape}")
    return w


def _class_indices(target: np.ndarray, c: int, ignore_index: int):
    """Check integer class indices; return (indices safe to gather with, kept mask)."""
    if target.dtype.kind not in "iu":
        raise ValueError(
            "target with the logits' shape minus the class axis must hold integer class "
            f"indices, got dtype {target.dtype}"
        )
    keep = target != ignore_index
    bad = keep & ((target < 0) | (target >= c))
    if np.any(bad):
        raise ValueError(
            f"target class index {target[bad].flat[0]} is out of range: expected 0 … {c - 1} "
            f"or ignore_index={ignore_index}"
        )
    return np.where(keep, target, 0).astype(np.intp), keep


def _logits(logits) -> np.ndarray:
    """Check softmax logits: float64, at least one axis, at least one class."""
    z = as_float_array(logits, "logits")
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ValueError(f"logits must have shape (C,) or (N, C) with C ≥ 1, got {z.shape}")
    return z


# ---------------------------------------------------------------- softmax cross-entropy
def _softmax_ce(logits, target, weight, ignore_index, label_smoothing, reduction, want_grad):
    """Shared body of the three softmax cross-entropy functions: (loss, grad or None)."""
    reduction = check_reduction(reduction)
    eps = _check_label_smoothing(label_smoothing)
    ignore_index = _check_ignore_index(ignore_index)
    z = _logits(logits)
    c = z.shape[-1]
    w = _class_weight(weight, c)
    t = np.asarray(target)
    if t.dtype.kind not in "biuf":
        raise ValueError(f"target must hold class indices or probabilities, got {t.dtype}")

    if t.shape == z.shape:  # class probabilities; PyTorch's mean divides by N
        if t.dtype.kind != "f":  # as in PyTorch; also keeps (C,) index lists from slipping in
            raise ValueError(
                f"target with the logits' shape {z.shape} holds class probabilities and must "
                f"be a float array, got dtype {t.dtype} (class indices have shape {z.shape[:-1]})"
            )
        q = as_float_array(t, "target")
        if eps > 0:
            q = (1.0 - eps) * q + eps / c
        a = q if w is None else q * w
        return _dense(z, a, None, z.size // c, reduction, want_grad)
    if t.shape != z.shape[:-1]:
        raise ValueError(
            f"target must have shape {z.shape[:-1]} (class indices) or {z.shape} "
            f"(probabilities) for logits of shape {z.shape}, got {t.shape}"
        )
    y, keep = _class_indices(t, c, ignore_index)
    w_y = keep.astype(np.float64) if w is None else np.where(keep, w[y], 0.0)
    # PyTorch's mean divides by the total weight of the samples it did not ignore.
    denominator = np.sum(w_y)
    if eps == 0:
        return _sparse(z, y, keep, w_y, w is not None, denominator, reduction, want_grad)
    # Smoothing: the target becomes (1 − ε)·onehot(y) + ε/C, each class weighted by w_c.
    a = (eps / c) * (np.ones(c) if w is None else w) * keep[..., None]
    y1 = y[..., None]
    a_y = np.take_along_axis(a, y1, axis=-1) + (1.0 - eps) * w_y[..., None]
    np.put_along_axis(a, y1, a_y, axis=-1)
    return _dense(z, a, keep, denominator, reduction, want_grad)


def _mean_scale(reduction: str, denominator, any_kept: bool) -> float:
    """Factor applied to per-sample gradients: 1/denominator for "mean", else 1."""
    if reduction != "mean":
        return 1.0
    if not any_kept:  # every sample ignored: the loss is NaN but nothing moves (PyTorch)
        return 0.0
    with np.errstate(divide="ignore"):
        return np.float64(1.0) / np.float64(denominator)


def _finish(per, reduction, denominator):
    """Reduce per-sample losses; "none" keeps their shape (a scalar for one sample)."""
    out = reduce(per, reduction, denominator=denominator)
    return out[()] if isinstance(out, np.ndarray) else out


def _sparse(z, y, keep, w_y, weighted, denominator, reduction, want_grad):
    """Integer targets, no smoothing: gather one log-probability per sample (hot path)."""
    m, k1, e, rest, finite = _shifted_exp(z, -1)  # the one pass of exponentials
    y1 = y[..., None]
    # log Σ_j e^{z_j − m} = log1p(rest), accurate when rest ≪ 1; rest may arrive in extended
    # precision (activations accumulates it so), and is rounded once here.
    log_z = np.log1p(rest).astype(np.float64)
    with np.errstate(invalid="ignore"):  # rows with m = ±inf are set to NaN just below
        log_p_y = (np.take_along_axis(z, y1, axis=-1) - m) - log_z
        nll = -log_p_y[..., 0] if not weighted else w_y * -log_p_y[..., 0]
        per = np.where(keep, np.where(finite[..., 0], nll, np.nan), 0.0)
    loss = _finish(per, reduction, denominator)
    if not want_grad:
        return loss, None

    # ∂ℓ/∂z = w_y·(p − onehot(y)); the gradient reuses e in place.
    scale = _mean_scale(reduction, denominator, bool(np.any(keep)))
    np.put_along_axis(e, k1, 1.0, axis=-1)
    with np.errstate(invalid="ignore"):  # 0 · inf when every weight is 0: NaN, as in PyTorch
        coef = (w_y * scale)[..., None]
    total = (1.0 + rest).astype(np.float64)
    if np.all(coef == 1.0):  # one rounding fewer than multiplying by coef / total
        np.divide(e, total, out=e)
    else:
        np.multiply(e, coef / total, out=e)
    # Target entry p_y − 1 = −Σ_{j≠y} p_j: for y = argmax that is −rest/(1 + rest), free of
    # the cancellation of p_y − 1 when p_y rounds to 1; otherwise p_y ≤ ½ is safe.
    others = (rest / (1.0 + rest)).astype(np.float64)
    g_y = np.where(y1 == k1, -coef * others, np.take_along_axis(e, y1, axis=-1) - coef)
    np.put_along_axis(e, y1, g_y, axis=-1)
    e[~finite[..., 0]] = np.nan
    e[~keep] = 0.0
    return loss, e


def _dense(z, a, keep, denominator, reduction, want_grad):
    """General case: ℓ = −Σ_c a_c log p_c for a per-class target weight a (..., C)."""
    m, k1, e, rest, finite = _shifted_exp(z, -1)
    with np.errstate(invalid="ignore"):  # rows with m = ±inf are set to NaN below
        log_p = (z - m) - np.log1p(rest).astype(np.float64)
        # A class with zero target weight contributes 0 even where log p = −inf (masked).
        per = -np.sum(np.where(a == 0, 0.0, a * log_p), axis=-1)
        per = np.where(finite[..., 0], per, np.nan)
    if keep is not None:
        per = np.where(keep, per, 0.0)
    loss = _finish(per, reduction, denominator)
    if not want_grad:
        return loss, None

    # ∂ℓ/∂z_c = A·p_c − a_c with A = Σ_c a_c; for the argmax k, A·p_k − a_k is rewritten as
    # Σ_{c≠k} a_c − A·Σ_{j≠k} p_j so that nothing cancels when p_k rounds to 1.
    any_kept = True if keep is None else bool(np.any(keep))
    scale = _mean_scale(reduction, denominator, any_kept)
    np.put_along_axis(e, k1, 1.0, axis=-1)
    big_a = np.sum(a, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore"):
        g = big_a * (e / (1.0 + rest).astype(np.float64)) - a
        a_rest = a.copy()
        np.put_along_axis(a_rest, k1, 0.0, axis=-1)
        others = (rest / (1.0 + rest)).astype(np.float64)
        g_k = np.sum(a_rest, axis=-1, keepdims=True) - big_a * others
    np.put_along_axis(g, k1, g_k, axis=-1)
    g[~finite[..., 0]] = np.nan
    if keep is not None:
        g[~keep] = 0.0
    with np.errstate(invalid="ignore"):  # 0 · inf when every weight is 0: NaN, as in PyTorch
        return loss, g * scale


def softmax_cross_entropy(
    logits, target, *, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean"
):
    r"""Cross-entropy between class targets and the softmax of ``logits``.

    Also called: categorical cross-entropy, softmax loss, multinomial logistic loss,
    negative log-likelihood of a categorical model (PyTorch ``F.cross_entropy``, optax
    ``softmax_cross_entropy[_with_integer_labels]``).

    .. math::

        \ell_n = -\sum_{c=1}^{C} w_c\, y_{nc} \log \operatorname{softmax}(\mathrm{logits}_n)_c,
        \qquad y_{nc} = (1-\varepsilon)\,\mathrm{target}_{nc} + \varepsilon / C ,

    where an integer ``target`` means its one-hot vector and ε is ``label_smoothing``.
    ``reduction="mean"`` divides Σ ℓ_n by Σ_n w_{target_n} over the samples not ignored
    (integer targets) or by N (probability targets), exactly as PyTorch does.

    Parameters
    ----------
    logits : array_like, shape (N, C) or (C,)
        Unnormalised log-probabilities (logits, not probabilities). More leading axes
        (..., C) are allowed; the class axis is the last one.
    target : array_like of int, shape (N,) or (); or of float, shape (N, C) or (C,)
        Class indices in [0, C) (or ``ignore_index``), or class probabilities with the
        logits' shape, which must be floats as in PyTorch (not checked, not renormalised;
        a class with target 0 adds 0 even when its logit is −inf).
    weight : array_like, shape (C,), optional
        Per-class weight w_c (default 1).
    ignore_index : int, default -100
        Integer targets equal to it add 0 to the loss and to the mean's denominator.
    label_smoothing : float in [0, 1], default 0
        ε above.
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    numpy.float64 or numpy.ndarray
        A scalar, or for ``"none"`` the per-sample losses of shape (N,) (a scalar for
        (C,) logits). NaN when every sample is ignored (``"mean"``) or a row of logits
        holds NaN or has maximum ±inf.

    Examples
    --------
    >>> round(float(softmax_cross_entropy(np.log([0.5, 0.4, 0.1]), 0)), 4)  # −ln 0.5
    0.6931
    >>> softmax_cross_entropy([[1000.0, 0.0], [0.0, 0.0]], [0, 1], reduction="none")
    array([0.        , 0.69314718])

    References
    ----------
    PyTorch ``torch.nn.functional.cross_entropy``; Blanchard, Higham & Higham, "Accurately
    computing the log-sum-exp and softmax functions", IMA J. Numer. Anal. 41 (2021);
    Szegedy et al., "Rethinking the Inception architecture" (label smoothing), CVPR 2016.

    Derived in chapter: book/cross_entropy_meets_softmax.md
    """
    loss, _ = _softmax_ce(logits, target, weight, ignore_index, label_smoothing, reduction, False)
    return loss


def softmax_cross_entropy_grad(
    logits, target, *, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean"
):
    r"""Gradient of :func:`softmax_cross_entropy` with respect to ``logits``.

    .. math::

        \frac{\partial \ell_n}{\partial\, \mathrm{logits}_{nc}}
        = \Big(\sum_{c'} w_{c'} y_{nc'}\Big) p_{nc} - w_c\, y_{nc},
        \qquad p_n = \operatorname{softmax}(\mathrm{logits}_n),

    which for an unweighted hard target is the famous p − y; scaled by the same
    denominator as the loss for ``reduction="mean"``. The dominant class's entry is
    computed as −Σ_{j≠k} p_j (not p_k − 1), so small gradients keep their digits.
    Ignored samples get a zero gradient.

    Parameters
    ----------
    logits, target, weight, ignore_index, label_smoothing, reduction
        As in :func:`softmax_cross_entropy`.

    Returns
    -------
    numpy.ndarray, shape of ``logits``
        Rows sum to 0 (for non-negative weights, up to rounding).

    Examples
    --------
    >>> softmax_cross_entropy_grad([0.0, 0.0], 0)
    array([-0.5,  0.5])
    >>> float(softmax_cross_entropy_grad([40.0, 0.0], 0)[0])  # p_0 − 1 would give 0.0
    -4.248354255291589e-18

    Derived in chapter: book/cross_entropy_meets_softmax.md
    """
    _, grad = _softmax_ce(logits, target, weight, ignore_index, label_smoothing, reduction, True)
    return grad


def softmax_cross_entropy_value_and_grad(
    logits, target, *, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean"
):
    r"""Loss and gradient of :func:`softmax_cross_entropy` from one pass of exponentials.

    The training loop's hot path: ``exp(logits − max)`` is computed once and serves both
    the log-sum-exp of the loss and the softmax of the gradient, and the gradient is built
    in place in that buffer. The results equal :func:`softmax_cross_entropy` and
    :func:`softmax_cross_entropy_grad` exactly.

    Parameters
    ----------
    logits, target, weight, ignore_index, label_smoothing, reduction
        As in :func:`softmax_cross_entropy`.

    Returns
    -------
    (loss, grad) : (numpy.float64 or numpy.ndarray, numpy.ndarray)
        The loss as :func:`softmax_cross_entropy` returns it, and the gradient with the
        shape of ``logits``.

    Examples
    --------
    >>> loss, grad = softmax_cross_entropy_value_and_grad([[0.0, 0.0]], [1])
    >>> round(float(loss), 6), grad
    (0.693147, array([[ 0.5, -0.5]]))

    Derived in chapter: book/cross_entropy_meets_softmax.md
    """
    return _softmax_ce(logits, target, weight, ignore_index, label_smoothing, reduction, True)


# ------------------------------------------------------------------ binary cross-entropy
def _binary_args(x, target, weight, x_name):
    """Check a (first argument, target, weight) triple of the binary losses."""
    t = as_float_array(target, "target")
    check_same_shape(x, t, x_name, "target")
    w = None if weight is None else _check_broadcast(weight, x.shape, "weight", x_name)
    return t, w


def binary_cross_entropy(probs, target, *, weight=None, reduction="mean"):
    r"""Binary cross-entropy between targets and predicted probabilities.

    Also called: log loss, Bernoulli negative log-likelihood (PyTorch
    ``F.binary_cross_entropy``). Prefer :func:`sigmoid_cross_entropy` on logits: this one
    sees only the rounded probability (σ(40) is exactly 1.0 in float64, so the loss of
    logit 40 with target 0 comes out as the clamp, 100, instead of 40).

    .. math::

        \ell_i = -w_i\big[\mathrm{target}_i \max(\log \mathrm{probs}_i, -100)
                 + (1 - \mathrm{target}_i)\max(\log(1 - \mathrm{probs}_i), -100)\big]

    Each log is clamped at −100 as in PyTorch, so a confidently wrong prediction costs at
    most 100 and ``probs`` in {0, 1} with ``target`` in {0, 1} gives 100 or 0, never inf.

    Parameters
    ----------
    probs : array_like, any shape (...)
        Probabilities in [0, 1] (not logits); anything outside raises ``ValueError``.
    target : array_like, same shape as ``probs``
        Targets, usually 0 or 1 (soft targets in [0, 1] are allowed; not checked).
    weight : array_like, broadcastable to the shape of ``probs``, optional
        Per-element weight w_i (default 1).
    reduction : {"mean", "sum", "none"}
        ``"mean"`` averages over every element.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        A scalar, or the per-element losses of shape (...) for ``"none"``.

    Examples
    --------
    >>> binary_cross_entropy([0.5, 0.0, 1.0], [1.0, 1.0, 1.0], reduction="none")
    array([  0.69314718, 100.        ,   0.        ])

    References
    ----------
    PyTorch ``torch.nn.functional.binary_cross_entropy``.

    Derived in chapter: book/cross_entropy.md
    """
    reduction = check_reduction(reduction)
    p = as_probabilities(probs, "probs")
    t, w = _binary_args(p, target, weight, "probs")
    with np.errstate(divide="ignore"):
        # log1p(−p) keeps log(1 − p) accurate for tiny p, where 1 − p would round to 1.
        log_p = np.maximum(np.log(p), _LOG_CLAMP)
        log_1mp = np.maximum(np.log1p(-p), _LOG_CLAMP)
    per = -(t * log_p + (1.0 - t) * log_1mp)
    if w is not None:
        per = w * per
    return _finish(per, reduction, None)


def binary_cross_entropy_grad(probs, target, *, weight=None, reduction="mean"):
    r"""Gradient of :func:`binary_cross_entropy` with respect to ``probs``.

    .. math::

        \frac{\partial \ell_i}{\partial\, \mathrm{probs}_i}
        = w_i\,\frac{\mathrm{probs}_i - \mathrm{target}_i}
          {\max\big(\mathrm{probs}_i(1 - \mathrm{probs}_i),\ 10^{-12}\big)}

    divided by the number of elements for ``"mean"``. This is PyTorch's rule, kept so
    that both agree: the exact derivative (p − t)/(p(1 − p)) wherever p(1 − p) > 1e−12,
    and a finite value (at most about 1e12 in magnitude; the bound is float32(1e−12) as
    in PyTorch's kernel) where it is not, in particular at
    p ∈ {0, 1}, where the clamped loss itself is flat or undefined. Finite but huge: one
    more reason to work from logits.

    Parameters
    ----------
    probs, target, weight, reduction
        As in :func:`binary_cross_entropy`.

    Returns
    -------
    numpy.ndarray, shape of ``probs``

    Examples
    --------
    >>> binary_cross_entropy_grad([0.5, 0.25], [1.0, 0.0], reduction="sum")
    array([-2.        ,  1.33333333])

    Derived in chapter: book/cross_entropy.md
    """
    reduction = check_reduction(reduction)
    p = as_probabilities(probs, "probs")
    t, w = _binary_args(p, target, weight, "probs")
    g = (p - t) / np.maximum(p * (1.0 - p), _BCE_GRAD_EPS)
    if w is not None:
        g = w * g
    return g * (1.0 / p.size if reduction == "mean" and p.size else 1.0)


# ------------------------------------------------------------------ sigmoid cross-entropy
def _sigmoid_args(logits, target, weight, pos_weight):
    """Check the arguments of the sigmoid cross-entropy pair."""
    x = as_float_array(logits, "logits")
    t, w = _binary_args(x, target, weight, "logits")
    pw = None
    if pos_weight is not None:
        pw = _check_broadcast(pos_weight, x.shape, "pos_weight", "logits")
    return x, t, w, pw


def _weighted(coef, values):
    """coef·values, with 0 wherever coef is 0 (so 0·inf adds 0, not NaN)."""
    with np.errstate(invalid="ignore"):
        return np.where(coef == 0, 0.0, coef * values)


def sigmoid_cross_entropy(logits, target, *, weight=None, pos_weight=None, reduction="mean"):
    r"""Binary cross-entropy on logits: the sigmoid and the log in one stable step.

    Also called: BCE with logits (PyTorch ``F.binary_cross_entropy_with_logits``),
    logistic loss, multi-label soft-margin loss (when ``target`` is (N, C) multi-hot:
    one independent sigmoid per class, e.g. an image that has a cat *and* a frog).

    .. math::

        \ell_i = w_i\big[\mathrm{pos\_weight}_c\, \mathrm{target}_i\,
                 \operatorname{softplus}(-\mathrm{logits}_i)
                 + (1 - \mathrm{target}_i)\operatorname{softplus}(\mathrm{logits}_i)\big]

    since −log σ(x) = softplus(−x) and −log(1 − σ(x)) = softplus(x); c is the class (last)
    axis. Two softplus terms, each ≤ 1 ULP, are why a hard target gets a ≤ 1 ULP loss at
    any logit, where PyTorch's (1 − t)x − log σ(x) loses every digit beyond ``|x|`` ≈ 37.

    Parameters
    ----------
    logits : array_like, any shape (..., C)
        Logits (not probabilities), one per label.
    target : array_like, same shape as ``logits``
        Targets in [0, 1], usually 0 or 1 (not checked). A term whose coefficient is 0
        adds 0, so infinite logits with the matching hard target give 0, not NaN.
    weight : array_like, broadcastable to the shape of ``logits``, optional
        Per-element weight w_i.
    pos_weight : array_like, broadcastable to the shape of ``logits``, optional
        Weight of the positive term, usually shape (C,): one per class, broadcast over
        the batch (> 1 raises recall, < 1 precision).
    reduction : {"mean", "sum", "none"}
        ``"mean"`` averages over every element (N·C of them in the multi-label case).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        A scalar, or the per-element losses of the shape of ``logits`` for ``"none"``.

    Examples
    --------
    >>> sigmoid_cross_entropy([0.0, 2.0], [1.0, 0.0], reduction="none")
    array([0.69314718, 2.12692801])
    >>> float(sigmoid_cross_entropy(800.0, 0.0))  # log(1 − σ(800)) would be log(0)
    800.0

    References
    ----------
    PyTorch ``torch.nn.functional.binary_cross_entropy_with_logits``; optax
    ``sigmoid_binary_cross_entropy``.

    Derived in chapter: book/cross_entropy_meets_softmax.md
    """
    reduction = check_reduction(reduction)
    x, t, w, pw = _sigmoid_args(logits, target, weight, pos_weight)
    pos = t if pw is None else pw * t
    # −log σ(x) = softplus(−x), −log(1 − σ(x)) = softplus(x): no log of a rounded sigmoid.
    per = _weighted(pos, softplus(-x)) + _weighted(1.0 - t, softplus(x))
    if w is not None:
        per = w * per
    return _finish(np.asarray(per, dtype=np.float64), reduction, None)


def sigmoid_cross_entropy_grad(logits, target, *, weight=None, pos_weight=None, reduction="mean"):
    r"""Gradient of :func:`sigmoid_cross_entropy` with respect to ``logits``.

    .. math::

        \frac{\partial \ell_i}{\partial\, \mathrm{logits}_i}
        = w_i\big[(1 - \mathrm{target}_i)\,\sigma(\mathrm{logits}_i)
          - \mathrm{pos\_weight}_c\,\mathrm{target}_i\,\sigma(-\mathrm{logits}_i)\big]

    divided by the number of elements for ``"mean"``. Without weights this is σ(x) − t;
    for a hard target it is computed as σ(x) (t = 0) or −pos_weight·σ(−x) (t = 1), so a tiny
    gradient keeps its digits (σ(x) − 1 at x = 40 would be 0 instead of −4.2e−18); soft
    targets use σ(x)·(1 + (pos_weight − 1)·t) − pos_weight·t. At x = 0 it is 0.5 − t.

    Parameters
    ----------
    logits, target, weight, pos_weight, reduction
        As in :func:`sigmoid_cross_entropy`.

    Returns
    -------
    numpy.ndarray, shape of ``logits``

    Examples
    --------
    >>> sigmoid_cross_entropy_grad([0.0, 0.0, 40.0], [0.0, 1.0, 1.0], reduction="sum")
    array([ 5.00000000e-01, -5.00000000e-01, -4.24835426e-18])

    Derived in chapter: book/cross_entropy_meets_softmax.md
    """
    reduction = check_reduction(reduction)
    x, t, w, pw = _sigmoid_args(logits, target, weight, pos_weight)
    s = sigmoid(x)
    if pw is None:
        g = s - t
    else:
        g = (1.0 + (pw - 1.0) * t) * s - pw * t
    # Hard targets: σ(x) − 1 = −σ(−x) keeps the digits of a tiny gradient at large x.
    pos = 1.0 if pw is None else pw
    g = np.where(t == 1, -pos * sigmoid(-x), np.where(t == 0, s, g))
    if w is not None:
        g = w * g
    return np.asarray(g * (1.0 / x.size if reduction == "mean" and x.size else 1.0))
