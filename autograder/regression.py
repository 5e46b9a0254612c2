"""Regression losses (L2, L1, smooth L1, Huber) and their gradients.

Every loss takes ``(input, target)`` of the same shape and a keyword-only ``reduction``
in ``{"mean", "sum", "none"}``, with PyTorch's semantics (``torch.nn.functional``):
``"mean"`` averages over every element, an empty input gives NaN. Each ``*_grad``
function returns ∂L/∂input with the shape of ``input``, already scaled by the reduction
(divided by the number of elements for ``"mean"``). At a kink (d = 0 for L1, smooth L1
and Huber) the subgradient 0 is returned, as PyTorch does.

Derived in chapter: book/regression_losses.md
"""

from __future__ import annotations

import numbers

import numpy as np

from autograder._validation import as_float_array, check_reduction, check_same_shape, reduce

__all__ = [
    "huber_loss",
    "huber_loss_grad",
    "l1_loss",
    "l1_loss_grad",
    "mse_loss",
    "mse_loss_grad",
    "smooth_l1_loss",
    "smooth_l1_loss_grad",
]


def _residual(input, target) -> np.ndarray:
    """Return d = input − target after checking both arrays (float64, same shape)."""
    x = as_float_array(input, "input")
    t = as_float_array(target, "target")
    check_same_shape(x, t, "input", "target")
    return x - t


def _grad_scale(reduction: str, size: int) -> float:
    """Factor by which a per-element derivative is multiplied under ``reduction``."""
    return 1.0 / size if reduction == "mean" and size > 0 else 1.0


def _check_threshold(value, name: str, *, allow_zero: bool) -> float:
    """Return ``value`` as a finite float ≥ 0 (or > 0), else raise naming ``name``."""
    kind = "non-negative" if allow_zero else "positive"
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a {kind} real number, got {value!r}")
    v = float(value)
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be a finite {kind} number, got {value!r}")
    return v


def mse_loss(input, target, *, reduction="mean"):
    r"""Mean squared error between ``input`` and ``target``.

    Also called: L2 loss, quadratic loss, squared error (optax ``squared_error``; note
    optax ``l2_loss`` has an extra factor 1/2 that this function does not).

    .. math::

        \ell_i = (\mathrm{input}_i - \mathrm{target}_i)^2, \qquad
        L = \frac{1}{n}\sum_{i=1}^{n} \ell_i \quad (\text{reduction="mean"})

    Parameters
    ----------
    input : array_like, any shape (...)
        Predictions (real numbers, not probabilities or logits in any special sense).
    target : array_like, same shape as ``input``
        Regression targets.
    reduction : {"mean", "sum", "none"}
        ``"none"`` returns the per-element losses.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        A scalar for ``"mean"``/``"sum"``, an array of shape (...) for ``"none"``.
        The squares of residuals beyond about 1.3e154 overflow to ``inf``: use
        :func:`huber_loss` when residuals may be that large.

    Examples
    --------
    >>> mse_loss([1.0, 2.0, 4.0], [1.0, 0.0, 1.0])
    np.float64(4.333333333333333)

    References
    ----------
    PyTorch ``torch.nn.functional.mse_loss``.

    Derived in chapter: book/regression_losses.md
    """
    reduction = check_reduction(reduction)
    d = _residual(input, target)
    with np.errstate(over="ignore"):  # documented: |d| beyond ~1.3e154 gives inf
        return reduce(d * d, reduction)


def mse_loss_grad(input, target, *, reduction="mean"):
    r"""Gradient of :func:`mse_loss` with respect to ``input``.

    .. math::

        \frac{\partial L}{\partial\,\mathrm{input}_i} = \frac{2(\mathrm{input}_i -
        \mathrm{target}_i)}{n} \quad (\text{"mean"}; \text{ no } 1/n \text{ for "sum"/"none"})

    Parameters
    ----------
    input, target : array_like, same shape (...)
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    numpy.ndarray, shape of ``input``
        The gradient grows linearly with the residual: outliers dominate the update.

    Examples
    --------
    >>> mse_loss_grad([1.0, 2.0], [0.0, 0.0])
    array([1., 2.])

    Derived in chapter: book/regression_losses.md
    """
    reduction = check_reduction(reduction)
    d = _residual(input, target)
    return (2.0 * _grad_scale(reduction, d.size)) * d


def l1_loss(input, target, *, reduction="mean"):
    r"""Mean absolute error between ``input`` and ``target``.

    Also called: L1 loss, MAE, absolute error.

    .. math::

        \ell_i = |\mathrm{input}_i - \mathrm{target}_i|, \qquad
        L = \frac{1}{n}\sum_{i=1}^{n} \ell_i \quad (\text{reduction="mean"})

    Parameters
    ----------
    input : array_like, any shape (...)
        Predictions.
    target : array_like, same shape as ``input``
        Regression targets.
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    numpy.float64 or numpy.ndarray
        A scalar for ``"mean"``/``"sum"``, an array of shape (...) for ``"none"``.

    Examples
    --------
    >>> l1_loss([1.0, 2.0, 4.0], [1.0, 0.0, 1.0])
    np.float64(1.6666666666666667)

    References
    ----------
    PyTorch ``torch.nn.functional.l1_loss``.

    Derived in chapter: book/regression_losses.md
    """
    reduction = check_reduction(reduction)
    return reduce(np.abs(_residual(input, target)), reduction)


def l1_loss_grad(input, target, *, reduction="mean"):
    r"""Gradient of :func:`l1_loss` with respect to ``input`` (subgradient 0 at d = 0).

    .. math::

        \frac{\partial L}{\partial\,\mathrm{input}_i} =
        \frac{\operatorname{sign}(\mathrm{input}_i - \mathrm{target}_i)}{n}
        \quad (\text{"mean"})

    Parameters
    ----------
    input, target : array_like, same shape (...)
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    numpy.ndarray, shape of ``input``
        The gradient does not shrink near the optimum, which is why plain gradient
        descent on L1 oscillates around it.

    Examples
    --------
    >>> l1_loss_grad([3.0, 0.0, -1.0], [0.0, 0.0, 0.0], reduction="sum")
    array([ 1.,  0., -1.])

    Derived in chapter: book/regression_losses.md
    """
    reduction = check_reduction(reduction)
    d = _residual(input, target)
    return _grad_scale(reduction, d.size) * np.sign(d)


def _smooth_l1_terms(d: np.ndarray, beta: float) -> np.ndarray:
    """Per-element smooth L1 for residuals ``d`` (beta already checked ≥ 0)."""
    a = np.abs(d)
    if beta == 0.0:  # the quadratic piece is empty; avoid 0/0 (cf. pytorch#96813)
        return a
    with np.errstate(over="ignore"):  # d² overflows only where the linear piece is taken
        return np.where(a < beta, (0.5 / beta) * (d * d), a - 0.5 * beta)


def smooth_l1_loss(input, target, *, beta=1.0, reduction="mean"):
    r"""Smooth L1 loss: quadratic for residuals below ``beta``, linear beyond.

    Also called: the loss of Fast R-CNN; Huber loss divided by ``beta`` (see
    :func:`huber_loss`).

    .. math::

        \ell_i = \begin{cases} \dfrac{d_i^2}{2\beta} & |d_i| < \beta \\[4pt]
        |d_i| - \dfrac{\beta}{2} & \text{otherwise} \end{cases}, \qquad
        d_i = \mathrm{input}_i - \mathrm{target}_i

    Parameters
    ----------
    input : array_like, any shape (...)
        Predictions.
    target : array_like, same shape as ``input``
        Regression targets.
    beta : float, default 1.0
        Width of the quadratic zone, ≥ 0. ``beta=0`` gives exactly :func:`l1_loss`;
        a negative ``beta`` raises ``ValueError``.
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    numpy.float64 or numpy.ndarray
        A scalar for ``"mean"``/``"sum"``, an array of shape (...) for ``"none"``.

    Examples
    --------
    >>> smooth_l1_loss([0.5, 3.0], [0.0, 0.0], reduction="none")
    array([0.125, 2.5  ])

    References
    ----------
    Girshick, "Fast R-CNN", ICCV 2015. PyTorch ``torch.nn.functional.smooth_l1_loss``.

    Derived in chapter: book/regression_losses.md
    """
    beta = _check_threshold(beta, "beta", allow_zero=True)
    reduction = check_reduction(reduction)
    return reduce(_smooth_l1_terms(_residual(input, target), beta), reduction)


def smooth_l1_loss_grad(input, target, *, beta=1.0, reduction="mean"):
    r"""Gradient of :func:`smooth_l1_loss` with respect to ``input``.

    .. math::

        \frac{\partial \ell_i}{\partial\,\mathrm{input}_i} = \begin{cases}
        d_i / \beta & |d_i| < \beta \\ \operatorname{sign}(d_i) & \text{otherwise}
        \end{cases}

    divided by the number of elements for ``reduction="mean"``. The two pieces agree at
    ``|d|`` = β, and at ``beta=0`` the result is sign(d) with 0 at d = 0 (never NaN, unlike
    pytorch#96813).

    Parameters
    ----------
    input, target : array_like, same shape (...)
    beta : float, default 1.0
        ≥ 0.
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    numpy.ndarray, shape of ``input``
        Bounded by 1 in magnitude (before the 1/n of ``"mean"``): large residuals
        cannot dominate the update.

    Examples
    --------
    >>> smooth_l1_loss_grad([0.5, 3.0, 0.0], [0.0, 0.0, 0.0], reduction="sum")
    array([0.5, 1. , 0. ])

    Derived in chapter: book/regression_losses.md
    """
    beta = _check_threshold(beta, "beta", allow_zero=True)
    reduction = check_reduction(reduction)
    d = _residual(input, target)
    if beta == 0.0:
        g = np.sign(d)
    else:
        g = np.where(np.abs(d) < beta, d / beta, np.sign(d))
    return _grad_scale(reduction, d.size) * g


def huber_loss(input, target, *, delta=1.0, reduction="mean"):
    r"""Huber loss: quadratic for residuals below ``delta``, linear (slope δ) beyond.

    Also called: robust regression loss. Equal to ``delta * smooth_l1_loss(beta=delta)``.

    .. math::

        \ell_i = \begin{cases} \tfrac12 d_i^2 & |d_i| < \delta \\[2pt]
        \delta\,(|d_i| - \tfrac12\delta) & \text{otherwise} \end{cases}, \qquad
        d_i = \mathrm{input}_i - \mathrm{target}_i

    Parameters
    ----------
    input : array_like, any shape (...)
        Predictions.
    target : array_like, same shape as ``input``
        Regression targets.
    delta : float, default 1.0
        Where the quadratic turns linear; must be > 0.
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    numpy.float64 or numpy.ndarray
        A scalar for ``"mean"``/``"sum"``, an array of shape (...) for ``"none"``.
        Grows linearly, so residuals of 1e154 stay finite where :func:`mse_loss`
        overflows.

    Examples
    --------
    >>> huber_loss([0.5, 3.0], [0.0, 0.0], delta=2.0, reduction="none")
    array([0.125, 4.   ])

    References
    ----------
    Huber, "Robust Estimation of a Location Parameter", Ann. Math. Statist. 35 (1964).
    PyTorch ``torch.nn.functional.huber_loss``.

    Derived in chapter: book/regression_losses.md
    """
    delta = _check_threshold(delta, "delta", allow_zero=False)
    reduction = check_reduction(reduction)
    d = _residual(input, target)
    a = np.abs(d)
    # Written out rather than delta * smooth_l1 so the quadratic piece is exactly d²/2;
    # d² overflows only where the linear piece is taken.
    with np.errstate(over="ignore"):
        per = np.where(a < delta, 0.5 * (d * d), delta * (a - 0.5 * delta))
    return reduce(per, reduction)


def huber_loss_grad(input, target, *, delta=1.0, reduction="mean"):
    r"""Gradient of :func:`huber_loss` with respect to ``input``.

    .. math::

        \frac{\partial \ell_i}{\partial\,\mathrm{input}_i} = \begin{cases}
        d_i & |d_i| < \delta \\ \delta\,\operatorname{sign}(d_i) & \text{otherwise}
        \end{cases}

    divided by the number of elements for ``reduction="mean"``; 0 at d = 0.

    Parameters
    ----------
    input, target : array_like, same shape (...)
    delta : float, default 1.0
        > 0.
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    numpy.ndarray, shape of ``input``
        The residual clipped to [−δ, δ] (before the 1/n of ``"mean"``).

    Examples
    --------
    >>> huber_loss_grad([0.5, 3.0, -9.0], [0.0, 0.0, 0.0], delta=2.0, reduction="sum")
    array([ 0.5,  2. , -2. ])

    Derived in chapter: book/regression_losses.md
    """
    delta = _check_threshold(delta, "delta", allow_zero=False)
    reduction = check_reduction(reduction)
    d = _residual(input, target)
    g = np.where(np.abs(d) < delta, d, delta * np.sign(d))
    return _grad_scale(reduction, d.size) * g
