"""Sigmoid, softmax and their logarithms, computed without overflow or lost digits.

The softmax family (:func:`logsumexp`, :func:`softmax`, :func:`log_softmax`) uses the max
shift *plus* ``log1p`` of the non-max terms (Blanchard, Higham & Higham 2021), so the
dominant class keeps its tiny log-probability: ``log_softmax([40, 0])`` is
``[-4.25e-18, -40]``, where the plain max shift (PyTorch, SciPy) returns ``0`` for the
first entry. These three are the hot path of every classification loss, so their
(N, C) work stays in fast float64; only the per-row sums are extended precision.

The elementwise functions (:func:`sigmoid`, :func:`log_sigmoid`, :func:`softplus`,
:func:`sigmoid_grad`) and :func:`softmax_jacobian` compute in ``np.longdouble`` (x87
extended precision, 64-bit significand, on x86-64) and round once to float64, which is
how they meet the ≤ 1 ULP (sigmoid, log_sigmoid, softplus) and ≤ 2 ULP (the rest)
accuracy of DESIGN.md; ``tests/test_accuracy.py`` measures it against mpmath. The price
is speed: about 5–10× a float64 formula (a second for 4 million sigmoids), which the
course's data sets never notice. Where ``np.longdouble`` is plain float64 (Windows,
macOS on ARM) every function stays stable, but only within a few ULP, and the accuracy
tests skip.

Special values follow PyTorch: a row whose maximum is ``+inf``, ``-inf`` (every entry
masked) or NaN has NaN softmax and log-softmax; its logsumexp is that maximum
(``+inf``, ``-inf`` or NaN). ``-inf`` entries in a row with a finite maximum are masked
classes: probability 0, log-probability ``-inf``. An empty class axis (C = 0) gives
logsumexp ``-inf`` (the log of an empty sum) and empty softmax outputs.
"""

from __future__ import annotations

import numpy as np

from autograder._validation import as_float_array

__all__ = [
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_jacobian",
    "softplus",
]

_EXTENDED = np.longdouble


def _class_axis(x: np.ndarray, axis, name: str = "z") -> int:
    """Return ``axis`` as a non-negative int for ``x``, or raise ``ValueError``.

    The message names the argument: ``name`` for a scalar input, ``axis`` for a bad axis.
    """
    if x.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (the class axis), got a scalar")
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise ValueError(f"axis must be an integer, got {axis!r}")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis {axis} is out of range for {name} with {x.ndim} dimension(s)")
    return int(axis) % x.ndim


def _shifted_exp(z: np.ndarray, axis: int):
    """Exponentials of the max-shifted logits, the max term set aside.

    Returns ``(m, k, e, rest, finite)`` with, along ``axis`` (kept with length 1 where
    reduced): ``m`` the row maximum, ``k`` the index of its (first) occurrence (callers put
    the max term back at ``k`` without a second argmax pass), ``e = exp(z − m)`` with the
    entry at ``k`` set to 0,
    ``rest = Σ_{j ≠ argmax} exp(z_j − m)`` (so the full sum is ``1 + rest``) and ``finite``
    whether ``m`` is finite. Keeping the max term out of ``rest`` is what lets ``log1p``
    recover ``log(1 + rest)`` when ``rest`` is far below one ulp of 1.

    ``rest`` is accumulated in ``np.longdouble``: the terms are positive, so it is then
    as accurate as the exponentials themselves (≤ 0.5 ULP each), which keeps softmax and
    log-softmax within 2 ULP for any number of classes. Only this per-row sum is extended
    (about 15 % of the time of the float64 exponentials); the (N, C) work stays float64.

    :mod:`autograder.classification` builds its fused loss and gradient on this helper:
    keep its signature and return values stable.
    """
    m = np.max(z, axis=axis, keepdims=True)
    finite = np.isfinite(m)
    safe_m = np.where(finite, m, 0.0)  # rows with m = ±inf or NaN are overwritten by callers
    with np.errstate(over="ignore", invalid="ignore"):
        e = z - safe_m
        np.exp(e, out=e)  # in place: one (N, C) buffer instead of two on the hot path
    k = np.argmax(z, axis=axis, keepdims=True)
    np.put_along_axis(e, k, 0.0, axis=axis)
    rest = np.sum(e, axis=axis, keepdims=True, dtype=_EXTENDED)
    return m, k, e, rest, finite


def _logsumexp_extended(rows: np.ndarray) -> np.ndarray:
    """LSE of each row of a (K, C) array of finite-max logits, entirely in extended precision."""
    zl = rows.astype(_EXTENDED)
    m = np.max(zl, axis=-1, keepdims=True)
    e = np.exp(zl - m)
    np.put_along_axis(e, np.argmax(zl, axis=-1, keepdims=True), 0, axis=-1)
    return (m + np.log1p(np.sum(e, axis=-1, keepdims=True)))[..., 0]


def logsumexp(z, *, axis=-1, keepdims=False):
    r"""Log of the sum of exponentials along an axis, without overflow.

    .. math::

        \operatorname{LSE}(z) = \log \sum_{j=1}^{C} e^{z_j}
                             = m + \operatorname{log1p}\Big(\sum_{j \ne k} e^{z_j - m}\Big),
        \qquad m = z_k = \max_j z_j .

    Shifting by the maximum keeps every exponential in (0, 1]; taking the max term out of
    the sum and using ``log1p`` keeps the digits of the other terms when they are tiny.

    Parameters
    ----------
    z : array_like, shape (..., C, ...)
        Logits (any real numbers, ``±inf`` allowed). Integer, bool and float32 inputs are
        converted to float64.
    axis : int, default -1
        The axis to reduce (the class axis).
    keepdims : bool, default False
        Keep the reduced axis with length 1, so the result broadcasts against ``z``.

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``z``'s shape without ``axis`` (or with length 1 there if ``keepdims``). A row with
        maximum ``+inf`` gives ``+inf``, an all ``-inf`` row gives ``-inf``, a NaN gives
        NaN, and an empty axis (C = 0) gives ``-inf``.

    Notes
    -----
    The sum is accumulated and ``m + log1p(rest)`` formed in extended precision, then
    rounded once, so the result is within 2 ULP on rows with exact gaps. Rows where a
    negative maximum cancels ``log1p(rest)`` are recomputed with extended-precision
    exponentials; what remains is an absolute error of about 2⁻⁶³ · ``|m|``, which only
    shows in results within a factor 2¹⁰ of 0 (``[-log 2, -log 2]``, whose LSE is 2e-17).

    Examples
    --------
    >>> float(logsumexp([1000.0, 1000.0]))  # exp(1000) overflows; the answer does not
    1000.6931471805599
    >>> logsumexp([[0.0, 0.0], [1.0, -np.inf]])
    array([0.69314718, 1.        ])

    References
    ----------
    P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing the log-sum-exp and
    softmax functions", IMA Journal of Numerical Analysis 41(4), 2021.

    Derived in chapter: ``book/sigmoid_softmax.md``.
    """
    z = as_float_array(z, "z")
    ax = _class_axis(z, axis)
    if z.shape[ax] == 0:
        out = np.full((*z.shape[:ax], 1, *z.shape[ax + 1 :]), -np.inf)
    else:
        m, _, _, rest, finite = _shifted_exp(z, ax)
        log_rest = np.log1p(rest)
        with np.errstate(invalid="ignore"):
            out = m + log_rest
            # A negative max can cancel log1p(rest) (|LSE| < log1p(rest)); the 0.5-ULP
            # errors of the float64 exponentials would then dominate a small result, so
            # those rows, and only those, are redone with extended-precision exponentials.
            redo = finite & (np.abs(out) < log_rest)
        if np.any(redo):
            rows = np.moveaxis(redo, ax, -1)[..., 0]
            np.moveaxis(out, ax, -1)[..., 0][rows] = _logsumexp_extended(
                np.moveaxis(z, ax, -1)[rows]
            )
        out = np.where(finite, out, m).astype(np.float64)  # one rounding
    if not keepdims:
        out = np.squeeze(out, axis=ax)
    return out[()]


def softmax(z, *, axis=-1):
    r"""Probabilities from logits: exponentiate and normalise along an axis.

    .. math::

        \operatorname{softmax}(z)_i = \frac{e^{z_i}}{\sum_{j=1}^{C} e^{z_j}}
                                    = \frac{e^{z_i - m}}{1 + \sum_{j \ne k} e^{z_j - m}},
        \qquad m = z_k = \max_j z_j .

    Parameters
    ----------
    z : array_like, shape (..., C, ...)
        Logits along ``axis``.
    axis : int, default -1
        The class axis.

    Returns
    -------
    numpy.ndarray, same shape as ``z``
        Probabilities in [0, 1] summing to 1 along ``axis``. Rows whose maximum is
        ``+inf``, ``-inf`` (all masked) or NaN give NaN, as in PyTorch; ``-inf`` entries of
        other rows get probability 0.

    Examples
    --------
    >>> softmax([1000.0, 0.0])  # no overflow: the shift by the max keeps exp ≤ 1
    array([1., 0.])
    >>> softmax([[0.0, 0.0, -np.inf]])
    array([[0.5, 0.5, 0. ]])

    References
    ----------
    P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing the log-sum-exp and
    softmax functions", IMA Journal of Numerical Analysis 41(4), 2021.

    Derived in chapter: ``book/sigmoid_softmax.md``.
    """
    z = as_float_array(z, "z")
    ax = _class_axis(z, axis)
    if z.shape[ax] == 0:
        return z.copy()
    _, k, e, rest, finite = _shifted_exp(z, ax)
    np.put_along_axis(e, k, 1.0, axis=ax)
    with np.errstate(invalid="ignore"):
        return np.where(finite, e / (1 + rest).astype(np.float64), np.nan)


def log_softmax(z, *, axis=-1):
    r"""Log-probabilities from logits, accurate even for the dominant class.

    .. math::

        \log \operatorname{softmax}(z)_i = (z_i - m)
            - \operatorname{log1p}\Big(\sum_{j \ne k} e^{z_j - m}\Big),
        \qquad m = z_k = \max_j z_j .

    For the dominant class ``z_i − m = 0`` and the result is ``−log1p(rest)``, which keeps
    its digits even when it is far below machine epsilon: ``log_softmax([40, 0])[0]`` is
    about ``−4.25e−18``, where ``log(softmax(z))`` and the plain max shift give 0.

    Parameters
    ----------
    z : array_like, shape (..., C, ...)
        Logits along ``axis``.
    axis : int, default -1
        The class axis.

    Returns
    -------
    numpy.ndarray, same shape as ``z``
        Log-probabilities (≤ 0). ``-inf`` logits in a row with a finite maximum give
        ``-inf``; rows whose maximum is ``±inf`` or NaN give NaN, as in PyTorch.

    Examples
    --------
    >>> log_softmax([1000.0, 1.0])  # log(softmax(...)) would give -inf for the second
    array([   0., -999.])
    >>> float(log_softmax([40.0, 0.0])[0])
    -4.248354255291589e-18

    References
    ----------
    P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing the log-sum-exp and
    softmax functions", IMA Journal of Numerical Analysis 41(4), 2021.

    Derived in chapter: ``book/sigmoid_softmax.md``.
    """
    z = as_float_array(z, "z")
    ax = _class_axis(z, axis)
    if z.shape[ax] == 0:
        return z.copy()
    m, _, _, rest, finite = _shifted_exp(z, ax)
    with np.errstate(invalid="ignore"):
        log_total = np.log1p(rest).astype(np.float64)
        return np.where(finite, (z - np.where(finite, m, 0.0)) - log_total, np.nan)


def _to_float64(x, shape=None) -> np.ndarray | np.float64:
    """Round an extended-precision result once to float64, in ``shape`` (0-d: a scalar)."""
    out = np.asarray(x).astype(np.float64)
    return (out if shape is None else out.reshape(shape))[()]


def _exp_neg_abs(z: np.ndarray) -> np.ndarray:
    """``exp(−|z|)`` in extended precision: in [0, 1], so it never overflows.

    The elementwise functions below are built on it with in-place operations, because
    extended-precision arithmetic is not vectorised and costs about 7× float64 per op.
    """
    e = np.abs(z).astype(_EXTENDED)
    np.negative(e, out=e)
    return np.exp(e, out=e)


def sigmoid(z):
    r"""The logistic sigmoid, elementwise, correct to within 1 ULP.

    .. math::

        \sigma(z) = \frac{1}{1 + e^{-z}} = \frac{e^{z}}{1 + e^{z}} .

    The first form is used for z ≥ 0, the second for z < 0, so the exponential never
    overflows; both are evaluated in extended precision and rounded once.

    Parameters
    ----------
    z : array_like, any shape
        Logits.

    Returns
    -------
    numpy.ndarray or numpy.float64, same shape as ``z``
        Probabilities in [0, 1]; ``sigmoid(+inf) = 1``, ``sigmoid(-inf) = 0``.

    Examples
    --------
    >>> sigmoid([0.0, 800.0, -800.0])
    array([0.5, 1. , 0. ])
    >>> float(sigmoid(-40.0))
    4.248354255291589e-18

    Derived in chapter: ``book/sigmoid_softmax.md``.
    """
    z = as_float_array(z, "z")
    shape, z = z.shape, z.ravel()  # 1-d, so that in-place ufuncs never meet a 0-d scalar
    e = _exp_neg_abs(z)
    out = np.divide(1, 1 + e, out=e.copy())
    np.multiply(out, e, out=out, where=z < 0)  # e^z / (1 + e^z) for negative z
    return _to_float64(out, shape)


def softplus(z):
    r"""The softplus ``log(1 + e^z)``, elementwise, correct to within 1 ULP.

    .. math::

        \operatorname{softplus}(z) = \log(1 + e^{z})
            = \max(z, 0) + \operatorname{log1p}\big(e^{-|z|}\big) .

    Parameters
    ----------
    z : array_like, any shape
        Logits.

    Returns
    -------
    numpy.ndarray or numpy.float64, same shape as ``z``
        Values in [0, ∞); ``softplus(-inf) = 0``, ``softplus(+inf) = +inf``.

    Examples
    --------
    >>> softplus([0.0, 1000.0, -1000.0])
    array([6.93147181e-01, 1.00000000e+03, 0.00000000e+00])

    Derived in chapter: ``book/sigmoid_softmax.md``.
    """
    z = as_float_array(z, "z")
    shape, z = z.shape, z.ravel()
    out = np.log1p(_exp_neg_abs(z))
    return _to_float64(np.add(out, np.maximum(z, 0.0), out=out), shape)


def log_sigmoid(z):
    r"""The log of the sigmoid, elementwise, correct to within 1 ULP.

    .. math::

        \log \sigma(z) = -\operatorname{softplus}(-z)
            = \min(z, 0) - \operatorname{log1p}\big(e^{-|z|}\big) .

    Parameters
    ----------
    z : array_like, any shape
        Logits.

    Returns
    -------
    numpy.ndarray or numpy.float64, same shape as ``z``
        Values in (−∞, 0]; ``log_sigmoid(-inf) = -inf``, ``log_sigmoid(+inf) = 0``.

    Examples
    --------
    >>> log_sigmoid([0.0, -1000.0])  # log(sigmoid(-1000)) would be log(0) = -inf
    array([-6.93147181e-01, -1.00000000e+03])

    Derived in chapter: ``book/sigmoid_softmax.md``.
    """
    z = as_float_array(z, "z")
    shape, z = z.shape, z.ravel()
    out = np.log1p(_exp_neg_abs(z))
    return _to_float64(np.subtract(np.minimum(z, 0.0), out, out=out), shape)


def sigmoid_grad(z):
    r"""Derivative of the sigmoid, elementwise, accurate in both tails.

    .. math::

        \sigma'(z) = \sigma(z)\,\big(1 - \sigma(z)\big) = \sigma(z)\,\sigma(-z)
                   = \frac{e^{-|z|}}{\big(1 + e^{-|z|}\big)^2} .

    Writing ``1 − σ(z)`` as ``σ(−z)`` avoids the cancellation that makes
    ``s * (1 - s)`` exactly 0 once σ(z) rounds to 1 (z ≳ 37).

    Parameters
    ----------
    z : array_like, any shape
        Logits.

    Returns
    -------
    numpy.ndarray or numpy.float64, same shape as ``z``
        Values in [0, 1/4]; 0 at ``±inf``.

    Examples
    --------
    >>> float(sigmoid_grad(0.0))
    0.25
    >>> float(sigmoid_grad(40.0))  # s * (1 - s) would give 0.0
    4.248354255291589e-18

    Derived in chapter: ``book/sigmoid_softmax.md``.
    """
    z = as_float_array(z, "z")
    shape, z = z.shape, z.ravel()
    e = _exp_neg_abs(z)
    den = 1 + e
    np.multiply(den, den, out=den)
    return _to_float64(np.divide(e, den, out=e), shape)


def softmax_jacobian(z):
    r"""Jacobian of the softmax over the last axis: ``diag(s) − s sᵀ``.

    .. math::

        J_{ij} = \frac{\partial s_i}{\partial z_j} = s_i(\delta_{ij} - s_j),
        \qquad J_{ii} = s_i \sum_{j \ne i} s_j ,

    where ``s = softmax(z)``. The diagonal is computed as ``s_i · Σ_{j≠i} s_j`` rather
    than ``s_i(1 − s_i)``, which cancels to 0 when ``s_i`` rounds to 1. Evaluated in
    extended precision and rounded once.

    Parameters
    ----------
    z : array_like, shape (..., C)
        Logits; the class axis is the last one.

    Returns
    -------
    numpy.ndarray, shape (..., C, C)
        Symmetric matrices whose rows sum to 0. Rows of ``z`` with a non-finite maximum
        give matrices of NaN (as :func:`softmax` does).

    Examples
    --------
    >>> softmax_jacobian([0.0, 0.0])
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])

    Derived in chapter: ``book/sigmoid_softmax.md``.
    """
    z = as_float_array(z, "z")
    _class_axis(z, -1)
    c = z.shape[-1]
    if c == 0:
        return np.zeros((*z.shape, 0))
    zl = z.astype(_EXTENDED)
    m = np.max(zl, axis=-1, keepdims=True)
    finite = np.isfinite(m)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(zl - np.where(finite, m, 0))
    k = np.argmax(zl, axis=-1)[..., None]
    np.put_along_axis(e, k, 0, axis=-1)
    rest = np.sum(e, axis=-1, keepdims=True)  # Σ_{j≠k} e_j, without the max term's 1
    np.put_along_axis(e, k, 1, axis=-1)
    total = 1 + rest
    # Σ_{j≠i} e_j: total − e_i is ≥ 1 for i ≠ k (no cancellation); for the argmax it is rest.
    others = total - e
    np.put_along_axis(others, k, rest, axis=-1)
    s = e / total
    with np.errstate(invalid="ignore"):
        jac = -s[..., :, None] * s[..., None, :]
        diag = np.arange(c)
        jac[..., diag, diag] = s * others / total
        jac = np.where(finite[..., None], jac, np.nan)
    return _to_float64(jac)
