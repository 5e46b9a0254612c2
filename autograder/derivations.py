r"""SymPy derivations of every derivative the book uses.

The numerical modules hold hand-written gradients (``sigmoid_grad``,
``softmax_cross_entropy_grad``, ``huber_loss_grad`` ...). This module derives the same
formulas symbolically, from the definitions of the functions, with ``sympy.diff``, a
Lagrange multiplier solved by ``sympy.solve`` and the derivative of a ``Piecewise``.
Nothing here is typed in as an answer: each function states a definition and lets SymPy
differentiate it, then rewrites the result in the textbook form (:math:`\sigma(1-\sigma)`,
:math:`\operatorname{diag}(s) - s s^\top`, :math:`p - y`). The tests prove every result equal
to the hand-written formula, to the reference ``_grad`` function and to central
differences of the reference loss.

Every function returns a SymPy expression, a ``Matrix`` or (for the entropy maximiser) a
dict of them. Show one in the book with :func:`to_latex` (``sympy.latex`` that prints
:math:`\sigma(z) - y` rather than :math:`-y + \sigma(z)`), evaluate it with
``sympy.lambdify`` (the sigmoid :class:`sigma` lambdifies to a stable NumPy formula), and
compare it with the numerical code with :func:`check_numerically`.

Symbols (module level, shared by every derivation, so the book can ``subs`` and
``lambdify`` with them):

``z`` logit (real), ``y`` target (real), ``t`` second target name (real), ``p`` and ``q``
probabilities (positive), ``d`` residual ``input - target`` (real), ``beta`` and ``delta``
the smooth-L1 and Huber thresholds (positive). Vectors of ``n`` components are
``vector_symbols(name, n)``: ``z_1 ... z_n`` (real), ``y_1 ... y_n`` (real), and
``p_i``, ``q_i``, ``s_i`` (positive).

Every derivation is cached (``functools.lru_cache``) because the book calls them while it
builds; each takes well under a second (up to n = 6 classes for the vector ones).
"""

from __future__ import annotations

import functools
import numbers
import re

import numpy as np
import sympy as sp

__all__ = [
    "bernoulli_negative_log_likelihood",
    "beta",
    "binary_cross_entropy_from_gradient",
    "binary_cross_entropy_grad",
    "binary_entropy_derivative",
    "check_numerically",
    "cross_entropy_grad_q",
    "d",
    "delta",
    "entropy_maximiser",
    "gaussian_prior_negative_log_posterior",
    "huber_grad",
    "kl_divergence_grad_q",
    "l1_grad",
    "l2_grad",
    "logsumexp_grad",
    "mse_sigmoid_grad",
    "p",
    "q",
    "self_information_derivative",
    "sigma",
    "sigmoid_cross_entropy_grad",
    "sigmoid_derivative",
    "smooth_l1_grad",
    "softmax_cross_entropy_grad",
    "softmax_jacobian",
    "t",
    "to_latex",
    "vector_symbols",
    "y",
    "z",
]

#: logit (a real number)
z = sp.Symbol("z", real=True)
#: target (a real number; a label in {0, 1} or a probability)
y = sp.Symbol("y", real=True)
#: a second name for a target (real)
t = sp.Symbol("t", real=True)
#: probability (positive)
p = sp.Symbol("p", positive=True)
#: second probability, the model's (positive)
q = sp.Symbol("q", positive=True)
#: residual ``input - target`` of a regression loss (real)
d = sp.Symbol("d", real=True)
#: smooth-L1 threshold (positive)
beta = sp.Symbol("beta", positive=True)
#: Huber threshold (positive)
delta = sp.Symbol("delta", positive=True)

# Assumptions of the vector components: they must be the same on every call, because
# SymPy symbols with the same name but different assumptions are different symbols.
_REAL_VECTORS = frozenset({"z", "y", "t", "d"})


def vector_symbols(name: str, n: int) -> tuple[sp.Symbol, ...]:
    """Return the ``n`` component symbols ``name_1 ... name_n`` the derivations use.

    Components of ``z``, ``y``, ``t`` and ``d`` are real; every other name (``p``, ``q``,
    ``s``) gives positive components, as probabilities are. Use these to ``subs`` into or
    ``lambdify`` a vector result: a symbol made by hand with other assumptions would be a
    different symbol to SymPy.

    Examples
    --------
    >>> vector_symbols("q", 3)
    (q_1, q_2, q_3)
    """
    n = _check_n(n)
    if name in _REAL_VECTORS:
        return sp.symbols(f"{name}_1:{n + 1}", real=True)
    return sp.symbols(f"{name}_1:{n + 1}", positive=True)


def _check_n(n) -> int:
    """Return ``n`` if it is a positive integer (a number of classes), else raise."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be a positive integer number of classes, got {n!r}")
    return int(n)


def _only(solutions: list, what) -> sp.Expr:
    """Return the single solution SymPy found for ``what``."""
    if len(solutions) != 1:  # pragma: no cover - a SymPy regression, not user error
        raise RuntimeError(f"expected one solution for {what}, SymPy found {solutions}")
    return solutions[0]


# --------------------------------------------------------------------------------------
# The sigmoid as a SymPy function
# --------------------------------------------------------------------------------------


def _sigmoid_numpy(x):
    """Evaluate σ(x) in float64 without overflow and without cancellation."""
    x = np.asarray(x, dtype=np.float64)
    # e^{−|x|} ∈ (0, 1] never overflows (1/(1 + e^{−x}) does for x < −709), and neither
    # 1/(1 + e) nor e/(1 + e) subtracts nearly equal numbers, so σ keeps its relative
    # accuracy in both tails.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))[()]


@functools.lru_cache(maxsize=1)
def _sigmoid_prime_in_sigma() -> tuple[sp.Symbol, sp.Expr]:
    """Derive σ′ from σ(x) = 1/(1 + e^{−x}) and write it in terms of s = σ(x).

    Returns ``(s, expr)`` with ``expr`` = s(1 − s).
    """
    x = sp.Dummy("x", real=True)
    s = sp.Dummy("s", positive=True)
    u = sp.Dummy("u", positive=True)  # stands for e^{−x}
    raw = sp.diff(1 / (1 + sp.exp(-x)), x)  # e^{−x} / (1 + e^{−x})²
    # Invert s = 1/(1 + u) for u = e^{−x} and substitute, so x disappears.
    u_of_s = _only(sp.solve(sp.Eq(s, 1 / (1 + u)), u), u)
    in_s = sp.simplify(raw.subs(sp.exp(-x), u_of_s))
    if in_s.free_symbols != {s}:  # pragma: no cover - a SymPy regression, not user error
        raise RuntimeError(f"could not write the sigmoid derivative in terms of s: {in_s}")
    return s, in_s


class sigma(sp.Function):
    r"""The logistic sigmoid :math:`\sigma(x) = 1/(1 + e^{-x})` as a SymPy function.

    Kept as a named function so that results print as :math:`\sigma(z)` rather than as
    a tower of exponentials. Its derivative is derived (not typed in) from the exponential
    form, the first time it is needed, and written back in terms of :math:`\sigma`.
    ``expr.rewrite(sympy.exp)`` expands it (do so before lambdifying with mpmath);
    ``sympy.lambdify`` evaluates it in NumPy as :math:`1/(1 + e^{-|x|})` for
    :math:`x \ge 0` and :math:`e^{-|x|}/(1 + e^{-|x|})` below, which never overflows.

    Examples
    --------
    >>> import sympy
    >>> sympy.diff(sigma(z), z)
    (1 - sigma(z))*sigma(z)
    >>> sigma(0)
    1/2
    >>> float(sympy.lambdify(z, sigma(z))(-1000.0))
    0.0
    """

    nargs = 1
    # what sympy.lambdify calls for sigma: the NumPy implementation above
    _imp_ = staticmethod(_sigmoid_numpy)

    @classmethod
    def eval(cls, arg):
        """Evaluate exactly where the value is a simple number: σ(0) = 1/2."""
        if arg.is_zero:
            return sp.S.Half
        return None

    def fdiff(self, argindex=1):
        """Return σ′(x) = σ(x)(1 − σ(x)), derived once from the exponential form."""
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        s, in_s = _sigmoid_prime_in_sigma()
        return in_s.subs(s, self)

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return 1 / (1 + sp.exp(-arg))

    def _eval_evalf(self, prec):
        return self.rewrite(sp.exp)._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return True if self.args[0].is_real else None


# --------------------------------------------------------------------------------------
# Information theory
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def self_information_derivative() -> sp.Expr:
    r"""Derive the derivative of the self-information :math:`I(p) = -\log p`.

    .. math::

        \frac{dI}{dp} = -\frac{1}{p} < 0,

    so information falls as the probability rises, fastest for rare events.

    Returns
    -------
    ``sympy.Expr``
        :math:`-1/p` in the module symbol ``p``. Print it with ``sympy.latex``.

    Examples
    --------
    >>> self_information_derivative()
    -1/p

    Notes
    -----
    Used in the chapter *Information content* (``book/information_content.md``).
    """
    return sp.diff(-sp.log(p), p)


@functools.lru_cache(maxsize=32)
def _entropy_maximiser(n: int) -> tuple:
    ps = vector_symbols("p", n)
    lam = sp.Symbol("lambda", real=True)
    entropy = -sum(pi * sp.log(pi) for pi in ps)
    lagrangian = entropy - lam * (sum(ps) - 1)
    # Stationarity: ∂ℒ/∂p_i = −log p_i − 1 − λ = 0 gives each p_i as a function of λ.
    p_of_lam = {pi: _only(sp.solve(sp.diff(lagrangian, pi), pi), pi) for pi in ps}
    # The constraint Σ p_i = 1 then fixes λ.
    lam_star = _only(sp.solve(sp.diff(lagrangian, lam).subs(p_of_lam), lam), lam)
    p_star = tuple(sp.simplify(p_of_lam[pi].subs(lam, lam_star)) for pi in ps)
    h_star = sp.simplify(entropy.subs(dict(zip(ps, p_star, strict=True))))
    hessian = sp.hessian(entropy, ps).subs(dict(zip(ps, p_star, strict=True)))
    return p_star, h_star, lagrangian, sp.simplify(lam_star), sp.ImmutableMatrix(hessian)


def entropy_maximiser(n: int = 3) -> dict:
    r"""Derive the distribution of maximum entropy on ``n`` outcomes (Lagrange multiplier).

    Maximise :math:`H(p) = -\sum_i p_i \log p_i` subject to :math:`\sum_i p_i = 1`:

    .. math::

        \mathcal{L} = -\sum_i p_i \log p_i - \lambda\Big(\sum_i p_i - 1\Big), \qquad
        \frac{\partial \mathcal{L}}{\partial p_i} = -\log p_i - 1 - \lambda = 0
        \;\Rightarrow\; p_i = e^{-1-\lambda} = \frac{1}{n}, \qquad H = \log n.

    The Hessian of :math:`H` is :math:`-\operatorname{diag}(1/p_i)`, negative definite, so
    the stationary point is the maximum.

    Parameters
    ----------
    n : int
        Number of outcomes, at least 1 (SymPy solves one equation per outcome).

    Returns
    -------
    dict
        ``"p"``: list of the ``n`` maximising probabilities (each ``1/n``);
        ``"H"``: the maximum entropy ``log(n)`` in nats;
        ``"lagrangian"``: :math:`\mathcal{L}` in ``vector_symbols("p", n)`` and ``lambda``;
        ``"multiplier"``: the value of :math:`\lambda` (``log(n) - 1``);
        ``"hessian"``: the Hessian of :math:`H` at the maximum (``-n`` times the identity).

    Examples
    --------
    >>> result = entropy_maximiser(4)
    >>> result["p"], result["H"]
    ([1/4, 1/4, 1/4, 1/4], log(4))

    Notes
    -----
    Used in the chapter *Entropy* (``book/entropy.md``).
    """
    p_star, h_star, lagrangian, lam_star, hessian = _entropy_maximiser(_check_n(n))
    return {
        "p": list(p_star),
        "H": h_star,
        "lagrangian": lagrangian,
        "multiplier": lam_star,
        "hessian": sp.Matrix(hessian),
    }


@functools.lru_cache(maxsize=1)
def binary_entropy_derivative() -> sp.Expr:
    r"""Derive the derivative of the binary entropy :math:`H_b(p)`.

    .. math::

        H_b(p) = -p\log p - (1-p)\log(1-p), \qquad
        \frac{dH_b}{dp} = \log(1-p) - \log p = \log\frac{1-p}{p},

    zero at :math:`p = 1/2` (the maximum, one bit), infinite at the ends.

    Returns
    -------
    ``sympy.Expr``
        The derivative in the module symbol ``p``.

    Examples
    --------
    >>> binary_entropy_derivative()
    log((1 - p)/p)

    Notes
    -----
    Used in the chapter *Entropy* (``book/entropy.md``).
    """
    return sp.simplify(sp.diff(-p * sp.log(p) - (1 - p) * sp.log(1 - p), p))


@functools.lru_cache(maxsize=32)
def _grad_q(n: int, kind: str) -> sp.ImmutableMatrix:
    ps, qs = vector_symbols("p", n), vector_symbols("q", n)
    if kind == "cross_entropy":
        loss = -sum(pi * sp.log(qi) for pi, qi in zip(ps, qs, strict=True))
    else:
        loss = sum(pi * sp.log(pi / qi) for pi, qi in zip(ps, qs, strict=True))
    return sp.ImmutableMatrix([sp.simplify(sp.diff(loss, qi)) for qi in qs])


def cross_entropy_grad_q(n: int = 3) -> sp.Matrix:
    r"""Derive the gradient of the cross-entropy :math:`H(p, q)` with respect to ``q``.

    .. math::

        H(p, q) = -\sum_i p_i \log q_i, \qquad
        \frac{\partial H}{\partial q_i} = -\frac{p_i}{q_i}.

    The gradient is taken in the free coordinates :math:`q_i` (no simplex constraint),
    as ``numpy`` central differences of ``autograder.cross_entropy`` see it.

    Parameters
    ----------
    n : int
        Number of classes.

    Returns
    -------
    ``sympy.Matrix``
        Column of shape ``(n, 1)`` in ``vector_symbols("p", n)`` and
        ``vector_symbols("q", n)``.

    Examples
    --------
    >>> cross_entropy_grad_q(2).T
    Matrix([[-p_1/q_1, -p_2/q_2]])

    Notes
    -----
    Used in the chapter *Cross-entropy* (``book/cross_entropy.md``).
    """
    return sp.Matrix(_grad_q(_check_n(n), "cross_entropy"))


def kl_divergence_grad_q(n: int = 3) -> sp.Matrix:
    r"""Derive the gradient of :math:`D(p \,\|\, q)` with respect to ``q``.

    .. math::

        D(p\,\|\,q) = \sum_i p_i \log\frac{p_i}{q_i}, \qquad
        \frac{\partial D}{\partial q_i} = -\frac{p_i}{q_i},

    the same as the gradient of the cross-entropy, because the two differ by
    :math:`H(p)`, which does not depend on :math:`q`: minimising one in :math:`q`
    minimises the other.

    Parameters
    ----------
    n : int
        Number of classes.

    Returns
    -------
    ``sympy.Matrix``
        Column of shape ``(n, 1)`` in ``vector_symbols("p", n)`` and
        ``vector_symbols("q", n)``.

    Examples
    --------
    >>> kl_divergence_grad_q(2) == cross_entropy_grad_q(2)
    True

    Notes
    -----
    Used in the chapters *KL divergence* and *Cross-entropy* (``book/kl_divergence.md``,
    ``book/cross_entropy.md``).
    """
    return sp.Matrix(_grad_q(_check_n(n), "kl_divergence"))


# --------------------------------------------------------------------------------------
# Sigmoid and softmax
# --------------------------------------------------------------------------------------


def sigmoid_derivative() -> sp.Expr:
    r"""Derive the derivative of the sigmoid.

    .. math::

        \sigma(z) = \frac{1}{1 + e^{-z}}, \qquad
        \sigma'(z) = \frac{e^{-z}}{(1 + e^{-z})^2} = \sigma(z)\,\big(1 - \sigma(z)\big),

    at most 1/4 (at :math:`z = 0`) and below 0.01 beyond :math:`|z| \approx 4.6`: the
    saturation that slows learning.

    Returns
    -------
    ``sympy.Expr``
        :math:`\sigma(z)(1 - \sigma(z))` in the module symbol ``z``, with ``sigma`` the
        SymPy function :class:`sigma`.

    Examples
    --------
    >>> import sympy
    >>> sympy.latex(sigmoid_derivative())
    '\\left(1 - \\sigma{\\left(z \\right)}\\right) \\sigma{\\left(z \\right)}'
    >>> sigmoid_derivative().subs(z, 0)
    1/4

    Notes
    -----
    Used in the chapter *Sigmoid and softmax* (``book/sigmoid_softmax.md``).
    """
    return sp.diff(sigma(z), z)


def _exp_to_probs(expr, zs, probs):
    """Write ``expr`` in softmax outputs: e^{z_k} = probs_k · Z with Z = Σ_j e^{z_j}.

    Substituting the partition function ``Z`` first and then every exponential makes
    ``Z`` cancel from any expression built from softmax outputs.
    """
    partition = sum(sp.exp(zk) for zk in zs)
    big_z = sp.Dummy("Z", positive=True)
    return expr.subs(partition, big_z).subs(
        {sp.exp(zk): pk * big_z for zk, pk in zip(zs, probs, strict=True)}
    )


@functools.lru_cache(maxsize=32)
def _softmax_jacobian(n: int) -> sp.ImmutableMatrix:
    zs, ss = vector_symbols("z", n), vector_symbols("s", n)
    partition = sum(sp.exp(zk) for zk in zs)
    softmax = [sp.exp(zi) / partition for zi in zs]
    jac = sp.Matrix(n, n, lambda i, j: sp.diff(softmax[i], zs[j]))
    return sp.ImmutableMatrix(jac.applyfunc(lambda e: sp.simplify(_exp_to_probs(e, zs, ss))))


def softmax_jacobian(n: int = 3) -> sp.Matrix:
    r"""Derive the Jacobian of the softmax, in terms of its outputs :math:`s_i`.

    .. math::

        s_i = \frac{e^{z_i}}{\sum_k e^{z_k}}, \qquad
        \frac{\partial s_i}{\partial z_j} =
        \begin{cases} s_i(1 - s_i) & i = j \\ -s_i s_j & i \ne j \end{cases},
        \qquad J = \operatorname{diag}(s) - s s^\top.

    SymPy differentiates the quotient of exponentials; the exponentials are then written
    as :math:`e^{z_k} = s_k Z` with :math:`Z = \sum_k e^{z_k}`, and :math:`Z` cancels.

    Parameters
    ----------
    n : int
        Number of classes (the work grows like :math:`n^2`; n ≤ 6 is instant).

    Returns
    -------
    ``sympy.Matrix``
        ``(n, n)`` symmetric matrix in ``vector_symbols("s", n)``; row ``i`` is the
        gradient of :math:`s_i`. Evaluate it at ``s = autograder.softmax(logits)``.

    Examples
    --------
    >>> softmax_jacobian(2)
    Matrix([
    [s_1*(1 - s_1),      -s_1*s_2],
    [     -s_1*s_2, s_2*(1 - s_2)]])

    Notes
    -----
    Used in the chapter *Sigmoid and softmax* (``book/sigmoid_softmax.md``).
    """
    return sp.Matrix(_softmax_jacobian(_check_n(n)))


@functools.lru_cache(maxsize=32)
def _logsumexp_grad(n: int) -> sp.ImmutableMatrix:
    zs, ss = vector_symbols("z", n), vector_symbols("s", n)
    lse = sp.log(sum(sp.exp(zk) for zk in zs))
    return sp.ImmutableMatrix([sp.simplify(_exp_to_probs(sp.diff(lse, zj), zs, ss)) for zj in zs])


def logsumexp_grad(n: int = 3) -> sp.Matrix:
    r"""Derive the gradient of log-sum-exp: it is the softmax.

    .. math::

        \operatorname{LSE}(z) = \log \sum_k e^{z_k}, \qquad
        \frac{\partial \operatorname{LSE}}{\partial z_j} = \frac{e^{z_j}}{\sum_k e^{z_k}}
        = s_j,

    one reason the exponential is the natural choice: the softmax is the gradient of a
    smooth maximum, and its Jacobian (:func:`softmax_jacobian`) is the Hessian of LSE.

    Parameters
    ----------
    n : int
        Number of classes.

    Returns
    -------
    ``sympy.Matrix``
        Column ``(s_1, ..., s_n)`` in ``vector_symbols("s", n)``.

    Examples
    --------
    >>> logsumexp_grad(3).T
    Matrix([[s_1, s_2, s_3]])

    Notes
    -----
    Used in the chapter *Sigmoid and softmax* (``book/sigmoid_softmax.md``).
    """
    return sp.Matrix(_logsumexp_grad(_check_n(n)))


# --------------------------------------------------------------------------------------
# Classification losses
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _softmax_cross_entropy_grad(n: int) -> sp.ImmutableMatrix:
    zs, ys, ps = vector_symbols("z", n), vector_symbols("y", n), vector_symbols("p", n)
    partition = sum(sp.exp(zk) for zk in zs)
    loss = -sum(yi * sp.log(sp.exp(zi) / partition) for yi, zi in zip(ys, zs, strict=True))
    grads = []
    for zj, pj in zip(zs, ps, strict=True):
        # Written in the probabilities the gradient is p_j·(y_1 + ... + y_n) − y_j ...
        g = sp.collect(sp.expand(_exp_to_probs(sp.diff(loss, zj), zs, ps)), pj)
        # ... and a target distribution sums to 1.
        grads.append(g.subs(sum(ys), 1))
    return sp.ImmutableMatrix(grads)


def softmax_cross_entropy_grad(n: int = 3) -> sp.Matrix:
    r"""Derive the gradient of softmax cross-entropy with respect to the logits.

    .. math::

        L(z) = -\sum_i y_i \log \operatorname{softmax}(z)_i, \qquad
        \frac{\partial L}{\partial z_j} = p_j \sum_i y_i - y_j = p_j - y_j,

    with :math:`p = \operatorname{softmax}(z)` and a target distribution :math:`y`
    (one-hot or soft) that sums to 1. The gradient of one sample; the reference
    ``softmax_cross_entropy_grad(..., reduction="sum")`` returns one such row per sample.

    Parameters
    ----------
    n : int
        Number of classes.

    Returns
    -------
    ``sympy.Matrix``
        Column ``p - y`` of shape ``(n, 1)`` in ``vector_symbols("p", n)`` and
        ``vector_symbols("y", n)``.

    Examples
    --------
    >>> softmax_cross_entropy_grad(3).T
    Matrix([[p_1 - y_1, p_2 - y_2, p_3 - y_3]])

    Notes
    -----
    Used in the chapter *Cross-entropy meets softmax and sigmoid*
    (``book/cross_entropy_meets_softmax.md``).
    """
    return sp.Matrix(_softmax_cross_entropy_grad(_check_n(n)))


@functools.lru_cache(maxsize=1)
def binary_cross_entropy_grad() -> sp.Expr:
    r"""Derive the gradient of binary cross-entropy with respect to the probability ``q``.

    .. math::

        L(q) = -\big[y \log q + (1 - y)\log(1 - q)\big], \qquad
        \frac{\partial L}{\partial q} = \frac{q - y}{q(1 - q)}.

    It blows up as :math:`q \to 0` or :math:`1`; on a sigmoid output the chain rule
    multiplies it by :math:`\sigma'(z) = q(1 - q)`, which cancels the denominator and
    leaves :func:`sigmoid_cross_entropy_grad`, :math:`\sigma(z) - y`: the reason to
    compute the loss from logits.

    Returns
    -------
    ``sympy.Expr``
        In the module symbols ``q`` (the predicted probability) and ``y`` (the target).

    Examples
    --------
    >>> binary_cross_entropy_grad()
    (q - y)/(q*(1 - q))

    Notes
    -----
    Used in the chapters *Cross-entropy* and *Cross-entropy meets softmax and sigmoid*
    (``book/cross_entropy.md``, ``book/cross_entropy_meets_softmax.md``).
    """
    return _textbook_bce_grad(sp.diff(-(y * sp.log(q) + (1 - y) * sp.log(1 - q)), q))


def _textbook_bce_grad(grad: sp.Expr) -> sp.Expr:
    """Write the derivative of binary cross-entropy in q as (q − y)/(q(1 − q))."""
    # SymPy factors it as (y − q)/(q(q − 1)); negate the numerator and the last factor of
    # the denominator to get the textbook (q − y)/(q(1 − q)).
    num, den = sp.fraction(sp.factor(grad))
    *others, last = den.as_ordered_factors()
    return sp.Mul(-num, sp.Pow(sp.Mul(*others, -last), -1))


@functools.lru_cache(maxsize=1)
def _bernoulli_negative_log_likelihood() -> tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr]:
    likelihood = q**y * (1 - q) ** (1 - y)
    # log(a^b) = b·log(a) needs a > 0. q is positive by assumption; 1 − q is too (q is a
    # probability strictly inside (0, 1)), so name it by a positive symbol while the
    # logarithm is expanded, instead of forcing the expansion blindly.
    r = sp.Dummy("r", positive=True)
    nll = sp.expand_log(-sp.log(likelihood.subs(1 - q, r))).subs(r, 1 - q)
    grad_q = _textbook_bce_grad(sp.diff(nll, q))
    # On a sigmoid output q = σ(z) the chain rule's σ′ = σ(1 − σ) cancels the denominators.
    grad_z = sp.expand(sp.cancel(sp.diff(nll.subs(q, sigma(z)), z)))
    return likelihood, nll, grad_q, grad_z


def bernoulli_negative_log_likelihood() -> dict:
    r"""Derive binary cross-entropy as the negative log-likelihood of a Bernoulli model.

    A model that predicts :math:`P(y = 1) = q` gives a label :math:`y \in \{0, 1\}` the
    likelihood below; its negative logarithm is binary cross-entropy, whose derivatives in
    the probability :math:`q` and, on a sigmoid output :math:`q = \sigma(z)`, in the logit
    :math:`z` are

    .. math::

        P(y) = q^{y} (1 - q)^{1 - y}, \qquad
        -\log P(y) = -y \log q - (1 - y)\log(1 - q), \qquad
        \frac{\partial}{\partial q} = \frac{q - y}{q(1 - q)}, \qquad
        \frac{\partial}{\partial z} = \sigma(z) - y.

    With a soft target :math:`y \in [0, 1]` the same ``"nll"`` is the cross-entropy between
    the Bernoulli distributions :math:`(y, 1 - y)` and :math:`(q, 1 - q)`. SymPy expands
    the logarithm of the likelihood and differentiates; the two derivatives are those of
    :func:`binary_cross_entropy_grad` and :func:`sigmoid_cross_entropy_grad`.

    Returns
    -------
    dict
        ``"likelihood"``: :math:`q^y (1 - q)^{1 - y}`;
        ``"nll"``: its negative logarithm, the binary cross-entropy;
        ``"grad_q"``: the derivative of ``"nll"`` in ``q``;
        ``"grad_z"``: the derivative of ``"nll"`` with ``q = sigma(z)``, in ``z``.
        All in the module symbols ``q``, ``y`` and ``z``.

    Examples
    --------
    >>> result = bernoulli_negative_log_likelihood()
    >>> result["nll"]
    -y*log(q) - (1 - y)*log(1 - q)
    >>> result["grad_q"], result["grad_z"]
    ((q - y)/(q*(1 - q)), -y + sigma(z))

    Notes
    -----
    Used in the chapter *Cross-entropy* (``book/cross_entropy.md``).
    """
    likelihood, nll, grad_q, grad_z = _bernoulli_negative_log_likelihood()
    return {"likelihood": likelihood, "nll": nll, "grad_q": grad_q, "grad_z": grad_z}


@functools.lru_cache(maxsize=1)
def binary_cross_entropy_from_gradient() -> sp.Expr:
    r"""Derive binary cross-entropy from the gradient a sigmoid output should have.

    Nielsen's question, turned around: which cost :math:`C(q)` of a sigmoid output
    :math:`q = \sigma(z)` gives the gradient :math:`\partial C / \partial z = q - y`, with
    no :math:`\sigma'` left in it? The chain rule gives
    :math:`\partial C/\partial z = C'(q)\,\sigma'(z) = C'(q)\, q(1 - q)`, so the cost must
    solve the ordinary differential equation below, which ``sympy.dsolve`` integrates:

    .. math::

        \frac{dC}{dq} = \frac{q - y}{q(1 - q)}
        \quad\Longrightarrow\quad
        C(q) = -\big[y \log q + (1 - y) \log(1 - q)\big] + C_1 .

    Binary cross-entropy is the only such cost, up to the constant :math:`C_1`.

    Returns
    -------
    ``sympy.Expr``
        The general solution :math:`C_1 - y\log q - (1 - y)\log(1 - q)` in the module
        symbols ``q`` (the sigmoid output, Nielsen's :math:`a`) and ``y`` (the target),
        and ``sympy.Symbol("C1")``, the integration constant as ``dsolve`` names it.

    Examples
    --------
    >>> binary_cross_entropy_from_gradient()
    C1 - y*log(q) - (1 - y)*log(1 - q)

    Notes
    -----
    SymPy integrates :math:`1/(1 - q)` as :math:`-\log(q - 1)`, which is complex on
    :math:`0 < q < 1`; there :math:`\log(q - 1) = \log(1 - q) + i\pi`, a constant that
    :math:`C_1` absorbs, so the result is written with :math:`\log(1 - q)`.
    Used in the chapter *Cross-entropy meets softmax and sigmoid*
    (``book/cross_entropy_meets_softmax.md``), after source article 004.
    """
    cost = sp.Function("C")
    ode = sp.Eq(cost(q).diff(q), (q - y) / (q * (1 - q)))
    solution = sp.dsolve(ode, cost(q)).rhs
    real = solution.subs(sp.log(q - 1), sp.log(1 - q))
    # Guard the rewrite: it must have found the complex log and left the ODE satisfied.
    if real == solution or sp.simplify(sp.diff(real, q) - ode.rhs) != 0:  # pragma: no cover
        raise RuntimeError(f"unexpected form of the dsolve solution: {solution}")
    return real


@functools.lru_cache(maxsize=1)
def sigmoid_cross_entropy_grad() -> sp.Expr:
    r"""Derive the gradient of binary cross-entropy on a sigmoid output (with logits).

    .. math::

        L(z) = -\big[y \log \sigma(z) + (1 - y)\log\big(1 - \sigma(z)\big)\big], \qquad
        \frac{\partial L}{\partial z} = \sigma(z) - y.

    The :math:`\sigma'(z)` of the chain rule cancels against the :math:`1/\sigma` and
    :math:`1/(1-\sigma)` of the logarithms, so the gradient never saturates.

    Returns
    -------
    ``sympy.Expr``
        :math:`\sigma(z) - y` in the module symbols ``z`` and ``y``.

    Examples
    --------
    >>> sigmoid_cross_entropy_grad()
    -y + sigma(z)

    Notes
    -----
    Used in the chapter *Cross-entropy meets softmax and sigmoid*
    (``book/cross_entropy_meets_softmax.md``).
    """
    loss = -(y * sp.log(sigma(z)) + (1 - y) * sp.log(1 - sigma(z)))
    return sp.expand(sp.cancel(sp.diff(loss, z)))


@functools.lru_cache(maxsize=1)
def mse_sigmoid_grad() -> sp.Expr:
    r"""Derive the gradient of the quadratic cost on a sigmoid output (the slowdown).

    .. math::

        L(z) = \tfrac12\big(\sigma(z) - y\big)^2, \qquad
        \frac{\partial L}{\partial z} = \big(\sigma(z) - y\big)\,\sigma'(z)
        = \big(\sigma(z) - y\big)\,\sigma(z)\big(1 - \sigma(z)\big).

    Compared with cross-entropy's :math:`\sigma(z) - y` there is the extra factor
    :math:`\sigma'(z) \le 1/4`, tiny when the neuron saturates: a confidently wrong
    neuron learns slowly. The :math:`\tfrac12` is the quadratic-cost convention that
    makes the factor exactly :math:`\sigma - y`; PyTorch's ``mse_loss`` has no
    :math:`\tfrac12` and gives twice this.

    Returns
    -------
    ``sympy.Expr``
        The gradient in the module symbols ``z`` and ``y``, factored.

    Examples
    --------
    >>> mse_sigmoid_grad()
    (1 - sigma(z))*(-y + sigma(z))*sigma(z)

    Notes
    -----
    Used in the chapter *Cross-entropy meets softmax and sigmoid*
    (``book/cross_entropy_meets_softmax.md``).
    """
    return sp.diff(sp.Rational(1, 2) * (sigma(z) - y) ** 2, z)


# --------------------------------------------------------------------------------------
# Regression losses, per element, in the residual d = input − target
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def l1_grad() -> sp.Expr:
    r"""Derive the derivative of the absolute error :math:`|d|` in the residual ``d``.

    .. math::

        \frac{d\,|d|}{dd} = \operatorname{sign}(d) \in \{-1, 0, 1\},

    of constant size however small the error (no slowing down near the optimum), and 0
    at the kink :math:`d = 0` (the subgradient the reference uses, as PyTorch does).

    Returns
    -------
    ``sympy.Expr``
        ``sign(d)`` in the module symbol ``d``.

    Examples
    --------
    >>> l1_grad(), l1_grad().subs(d, 0)
    (sign(d), 0)

    Notes
    -----
    Used in the chapter *Regression losses* (``book/regression_losses.md``).
    """
    return sp.diff(sp.Abs(d), d)


@functools.lru_cache(maxsize=1)
def l2_grad() -> sp.Expr:
    r"""Derive the derivative of the squared error :math:`d^2` in the residual ``d``.

    .. math::

        \frac{d\,(d^2)}{dd} = 2d,

    growing with the error, so outliers dominate. Without a :math:`\tfrac12`, as
    PyTorch's ``mse_loss`` (and ``autograder.mse_loss``) defines the loss.

    Returns
    -------
    ``sympy.Expr``
        ``2*d``.

    Examples
    --------
    >>> l2_grad()
    2*d

    Notes
    -----
    Used in the chapter *Regression losses* (``book/regression_losses.md``).
    """
    return sp.diff(d**2, d)


@functools.lru_cache(maxsize=1)
def smooth_l1_grad() -> sp.Expr:
    r"""Derive the derivative of the smooth L1 loss in the residual ``d``.

    .. math::

        \ell_\beta(d) = \begin{cases} \dfrac{d^2}{2\beta} & |d| < \beta \\
        |d| - \dfrac{\beta}{2} & \text{otherwise} \end{cases}, \qquad
        \ell_\beta'(d) = \begin{cases} d/\beta & |d| < \beta \\
        \operatorname{sign}(d) & \text{otherwise} \end{cases}.

    Quadratic near zero (0 at :math:`d = 0`), the gradient of L1 (capped at 1) beyond
    :math:`\beta`; at :math:`|d| = \beta` the two branches agree, so the derivative is
    continuous. As :math:`\beta \to 0` it becomes ``sign(d)``, the L1 gradient.

    Returns
    -------
    ``sympy.Piecewise``
        In the module symbols ``d`` and ``beta`` (positive).

    Examples
    --------
    >>> smooth_l1_grad()
    Piecewise((d/beta, beta > Abs(d)), (sign(d), True))

    Notes
    -----
    Used in the chapter *Regression losses* (``book/regression_losses.md``).
    """
    loss = sp.Piecewise((d**2 / (2 * beta), sp.Abs(d) < beta), (sp.Abs(d) - beta / 2, True))
    return sp.diff(loss, d)


@functools.lru_cache(maxsize=1)
def huber_grad() -> sp.Expr:
    r"""Derive the derivative of the Huber loss in the residual ``d``.

    .. math::

        h_\delta(d) = \begin{cases} \tfrac12 d^2 & |d| < \delta \\
        \delta\big(|d| - \tfrac12\delta\big) & \text{otherwise} \end{cases}, \qquad
        h_\delta'(d) = \begin{cases} d & |d| < \delta \\
        \delta\,\operatorname{sign}(d) & \text{otherwise} \end{cases}.

    The gradient of L2 (halved) near zero, 0 at :math:`d = 0`, clipped at
    :math:`\pm\delta`; continuous at :math:`|d| = \delta`. Since
    :math:`h_\delta = \delta\,\ell_{\beta=\delta}`, it is ``delta`` times
    :func:`smooth_l1_grad` with ``beta = delta``.

    Returns
    -------
    ``sympy.Piecewise``
        In the module symbols ``d`` and ``delta`` (positive).

    Examples
    --------
    >>> huber_grad()
    Piecewise((d, delta > Abs(d)), (delta*sign(d), True))

    Notes
    -----
    Used in the chapter *Regression losses* (``book/regression_losses.md``).
    """
    loss = sp.Piecewise((d**2 / 2, sp.Abs(d) < delta), (delta * (sp.Abs(d) - delta / 2), True))
    return sp.diff(loss, d)


# --------------------------------------------------------------------------------------
# Showing and checking a derivation
# --------------------------------------------------------------------------------------

_LEADING_MINUS = re.compile(r"(?:^|\\left\(|\\left\[|\{|&|\\\\)\s*-")


def to_latex(expr) -> str:
    r"""Return ``sympy.latex(expr)`` with each sum led, where possible, by a positive term.

    SymPy orders the terms of a sum by a fixed key, so it prints :math:`-y + \sigma(z)`;
    a reader expects :math:`\sigma(z) - y`. Of SymPy's default and reversed term orders
    this keeps the one whose sums, brackets and matrix cells open with fewer minus signs
    (the default on a tie). Anything ``sympy.latex`` accepts works.

    Examples
    --------
    >>> to_latex(sigmoid_cross_entropy_grad())
    '\\sigma{\\left(z \\right)} - y'
    >>> to_latex(softmax_cross_entropy_grad(2))
    '\\left[\\begin{matrix}p_{1} - y_{1}\\\\p_{2} - y_{2}\\end{matrix}\\right]'
    """
    candidates = [sp.latex(expr), sp.latex(expr, order="rev-lex")]
    return min(candidates, key=lambda text: len(_LEADING_MINUS.findall(text)))


def check_numerically(expr, symbols, f_numeric, points) -> float:
    r"""Return the largest absolute difference between ``expr`` and ``f_numeric``.

    ``expr`` is lambdified in ``symbols`` and evaluated at each point; ``f_numeric`` (a
    NumPy function, say a reference ``_grad`` or a central difference) is called with the
    same arguments. A book page asserts the result is tiny to show that a derivation and
    the code agree.

    Parameters
    ----------
    expr : ``sympy.Expr or sympy.Matrix``
        The derived formula.
    symbols : ``sequence of sympy.Symbol``
        The free symbols of ``expr``, in the order ``f_numeric`` takes them.
    f_numeric : ``callable``
        ``f_numeric(*point)`` returns a number or an array with as many entries as
        ``expr`` (a column ``Matrix`` compares with a 1-D array).
    points : ``iterable``
        Each point is a sequence of ``len(symbols)`` numbers (a bare number is allowed
        when there is one symbol).

    Returns
    -------
    float
        :math:`\max |{\rm expr} - f|` over all points and entries (NaN if any is NaN).

    Examples
    --------
    >>> import numpy as np
    >>> check_numerically(sigmoid_derivative(), [z],
    ...                   lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2, [-3.0, 0.0, 2.5]) < 1e-15
    True
    """
    symbols = list(symbols)
    f_symbolic = sp.lambdify(symbols, expr, modules="numpy")
    worst = 0.0
    for point in points:
        args = np.atleast_1d(np.asarray(point, dtype=np.float64))
        if args.shape != (len(symbols),):
            raise ValueError(f"each point needs {len(symbols)} numbers, got {point!r}")
        want = np.asarray(f_numeric(*args), dtype=np.float64)
        got = np.asarray(f_symbolic(*args), dtype=np.float64)
        if got.size != want.size:
            raise ValueError(f"expr has {got.size} entries but f_numeric returned {want.size}")
        diff = np.abs(got.reshape(want.shape) - want)
        worst = max(worst, float(np.max(diff, initial=0.0)))
        if np.isnan(diff).any():
            return float("nan")
    return worst


# --------------------------------------------------------------------------------------
# Regularisation: an L2 penalty is a Gaussian prior (MAP estimation)
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _gaussian_prior_negative_log_posterior() -> tuple:
    i, j = sp.symbols("i j", integer=True, positive=True)
    n_samples, n_weights = sp.symbols("N D", integer=True, positive=True)
    tau = sp.Symbol("tau", positive=True)
    lam = sp.Symbol("lambda", positive=True)
    # q_i = p(y_i | x_i, w), the probability the model gives sample i's label: positive,
    # so log of the product over samples expands into a sum of logs.
    q_i = sp.IndexedBase("q", positive=True)
    w_j = sp.IndexedBase("w", real=True)
    likelihood = sp.Product(q_i[i], (i, 1, n_samples))
    prior = sp.Product(
        sp.exp(-(w_j[j] ** 2) / (2 * tau**2)) / sp.sqrt(2 * sp.pi * tau**2), (j, 1, n_weights)
    )
    # −log(likelihood · prior) as a sum of sums, each split into its terms and evaluated
    # where the summand does not depend on the index (D copies of the normalising constant).
    terms = sp.Add.make_args(sp.expand(sp.expand_log(-sp.log(likelihood * prior))).doit())
    data = sp.Add(*(sp.factor_terms(term) for term in terms if term.has(q_i)))
    penalty = sp.Add(*(sp.factor_terms(term) for term in terms if term.has(w_j)))
    constant = sp.Add(*(term for term in terms if not term.has(q_i, w_j)))
    # The book's loss is a mean over the N samples, (1/N) Σ −log q_i + λ Σ w_j²: dividing
    # the negative log-posterior by N (which does not move its minimiser) and matching the
    # coefficient of Σ w_j² gives λ.
    sum_w2 = sp.Sum(w_j[j] ** 2, (j, 1, n_weights))
    lam_mean = _only(sp.solve(sp.Eq(lam * sum_w2, sp.expand(penalty / n_samples)), lam), lam)
    lam_sum = _only(sp.solve(sp.Eq(lam * sum_w2, penalty), lam), lam)
    symbols = {"N": n_samples, "D": n_weights, "tau": tau, "q": q_i, "w": w_j, "i": i, "j": j}
    return likelihood, prior, data, penalty, constant, lam_mean, lam_sum, symbols


def gaussian_prior_negative_log_posterior() -> dict:
    r"""Derive cross-entropy plus an L2 penalty as MAP estimation with a Gaussian prior.

    A model with weights :math:`w = (w_1, \dots, w_D)` gives sample :math:`i` of
    :math:`N` the probability :math:`q_i = p(y_i \mid x_i, w)` of its label. With the prior
    :math:`w_j \sim \mathcal N(0, \tau^2)` independently, the posterior is proportional to
    likelihood times prior, and its negative logarithm is

    .. math::

        -\log\Big[\prod_{i=1}^N q_i \prod_{j=1}^D
            \frac{e^{-w_j^2 / (2\tau^2)}}{\sqrt{2\pi\tau^2}}\Big]
        = \sum_{i=1}^N -\log q_i \;+\; \frac{1}{2\tau^2} \sum_{j=1}^D w_j^2
        \;+\; \frac{D}{2}\log(2\pi\tau^2):

    the summed cross-entropy, an L2 penalty, and a constant that does not depend on
    :math:`w`. The most probable weights (the MAP estimate) therefore minimise
    cross-entropy plus :math:`\lambda \lVert w \rVert^2` with

    .. math::

        \lambda = \frac{1}{2\tau^2} \;\text{for the summed loss}, \qquad
        \lambda = \frac{1}{2N\tau^2} \;\text{for the mean loss}
        \ \tfrac1N \sum_i -\log q_i + \lambda \lVert w \rVert^2,

    the second after dividing by :math:`N`, which does not move the minimiser. A narrow
    prior (small :math:`\tau`) is a strong penalty; a flat prior (:math:`\tau \to \infty`)
    is none, and maximum likelihood is left. Gradient descent on the penalised mean loss
    steps :math:`w \leftarrow (1 - 2\eta\lambda)\, w - \eta \nabla_w \mathrm{CE}`: each step
    shrinks the weights by a constant factor, hence the name *weight decay*.

    Returns
    -------
    dict
        ``"likelihood"``: :math:`\prod_i q_i` (a ``sympy.Product``);
        ``"prior"``: the Gaussian density of the weights (a ``sympy.Product``);
        ``"data"``: :math:`-\sum_i \log q_i`, the summed cross-entropy;
        ``"penalty"``: :math:`\sum_j w_j^2 / (2\tau^2)`;
        ``"constant"``: the rest, :math:`\tfrac D2 \log(2\pi\tau^2)` (as a sum of logs);
        ``"lambda_mean"``: :math:`1/(2N\tau^2)`, for a loss averaged over the samples;
        ``"lambda_sum"``: :math:`1/(2\tau^2)`, for a loss summed over the samples;
        ``"symbols"``: the symbols used, by name: ``"N"``, ``"D"`` (positive integers),
        ``"tau"`` (positive), ``"q"`` (``IndexedBase``, positive), ``"w"``
        (``IndexedBase``, real), and the indices ``"i"``, ``"j"``.
        ``data + penalty + constant`` is the negative log-posterior up to the evidence
        :math:`p(y)`, which does not depend on :math:`w`.

    Examples
    --------
    >>> result = gaussian_prior_negative_log_posterior()
    >>> result["penalty"]
    Sum(w[j]**2, (j, 1, D))/(2*tau**2)
    >>> result["lambda_mean"], result["lambda_sum"]
    (1/(2*N*tau**2), 1/(2*tau**2))

    Notes
    -----
    Used in the chapter *Training end to end* (``book/training.md``), where the penalty
    also gives the unregularised, linearly separable problem a finite minimiser. The bias
    is usually left out of the penalty (a flat prior on it), as the chapter does.
    """
    likelihood, prior, data, penalty, constant, lam_mean, lam_sum, symbols = (
        _gaussian_prior_negative_log_posterior()
    )
    return {
        "likelihood": likelihood,
        "prior": prior,
        "data": data,
        "penalty": penalty,
        "constant": constant,
        "lambda_mean": lam_mean,
        "lambda_sum": lam_sum,
        "symbols": dict(symbols),
    }
