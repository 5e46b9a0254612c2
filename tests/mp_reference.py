"""High-precision oracles in mpmath, written so that no step cancels.

Each ``mp_*`` function takes float64 inputs (Python floats, numpy scalars or sequences of
them; every float64 is converted to an mpmath number exactly), works at ``DPS`` decimal
digits and returns mpmath numbers. :func:`to_float64` rounds one of them correctly to the
nearest float64, subnormals included; :func:`as_float64` does it for nested lists.

"Cancellation-free" matters even at 60 digits: ``log Σ exp(z_j)`` evaluated naively loses
the small terms once the logit gap passes ~140 (e^-140 < 10^-60), so the log-softmax of the
dominant class would come out as exactly 0. The formulas below never add a tiny quantity
to 1 before taking a log (they use ``log1p`` of the small sum) and never subtract nearly
equal numbers. These are independent of ``autograder``: they share no code with it.

Used by ``tests/test_accuracy.py`` and by the loss tests (``mp_log_softmax``,
``mp_log_sigmoid``, ``mp_softplus``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import mpmath
from mpmath import mp, mpf

#: working precision in decimal digits
DPS = 60


def _mp(x) -> mpf:
    """Convert a float64 (or int) to an mpmath number exactly, keeping ±inf and NaN."""
    return mpf(float(x))


def to_float64(x) -> float:
    """Round an mpmath real correctly to the nearest float64 (ties to even).

    ``float(mpf)`` rounds correctly for normal numbers, but it can round twice in the
    subnormal range, so there we round the multiple of 2**-1074 ourselves.
    """
    x = mpf(x)
    if mpmath.isnan(x) or mpmath.isinf(x) or x == 0:
        return float(x)
    if abs(x) < mpf(2) ** -1022:
        with mp.workdps(DPS):
            n = int(mpmath.nint(x * mpf(2) ** 1074))  # nint rounds half to even
        return math.ldexp(float(n), -1074)
    return float(x)


def as_float64(values):
    """Apply :func:`to_float64` to a scalar or to (nested) lists of mpmath numbers."""
    if isinstance(values, list | tuple):
        return [as_float64(v) for v in values]
    return to_float64(values)


# ---------------------------------------------------------------- activations


def mp_sigmoid(x) -> mpf:
    """σ(x) = 1 / (1 + e^−x): the sum 1 + e^−x never cancels."""
    with mp.workdps(DPS):
        return 1 / (1 + mpmath.exp(-_mp(x)))


def mp_softplus(x) -> mpf:
    """softplus(x) = log1p(e^x) (mpmath's log1p is exact for tiny arguments)."""
    with mp.workdps(DPS):
        return mpmath.log1p(mpmath.exp(_mp(x)))


def mp_log_sigmoid(x) -> mpf:
    """log σ(x) = −log1p(e^−x)."""
    with mp.workdps(DPS):
        return -mpmath.log1p(mpmath.exp(-_mp(x)))


def mp_sigmoid_grad(x) -> mpf:
    """σ′(x) = e^−|x| / (1 + e^−|x|)², the same as σ(x)σ(−x) without 1 − σ."""
    with mp.workdps(DPS):
        e = mpmath.exp(-abs(_mp(x)))
        return e / (1 + e) ** 2


def _others_sum(row: list[mpf], i: int) -> mpf:
    """Σ_{j≠i} exp(z_j − z_i), with exp(−inf − z_i) = 0 and exp(z_j + inf) = +inf."""
    return mpmath.fsum(mpmath.exp(row[j] - row[i]) for j in range(len(row)) if j != i)


def mp_log_softmax(z: Iterable) -> list[mpf]:
    """log softmax(z)_i = −log1p(Σ_{j≠i} exp(z_j − z_i)) for one row of finite-max logits."""
    with mp.workdps(DPS):
        row = [_mp(v) for v in z]
        return [-mpmath.log1p(_others_sum(row, i)) for i in range(len(row))]


def mp_softmax(z: Iterable) -> list[mpf]:
    """softmax(z)_i = 1 / (1 + Σ_{j≠i} exp(z_j − z_i)) for one row."""
    with mp.workdps(DPS):
        row = [_mp(v) for v in z]
        return [1 / (1 + _others_sum(row, i)) for i in range(len(row))]


def mp_logsumexp(z: Iterable) -> mpf:
    """LSE(z) = z_k + log1p(Σ_{j≠k} exp(z_j − z_k)), k the argmax, for one row."""
    with mp.workdps(DPS):
        row = [_mp(v) for v in z]
        k = max(range(len(row)), key=lambda i: row[i])
        return row[k] + mpmath.log1p(_others_sum(row, k))


def mp_softmax_jacobian(z: Iterable) -> list[list[mpf]]:
    """J_ij = s_i(δ_ij − s_j), the diagonal as s_i Σ_{j≠i} s_j (no 1 − s_i)."""
    with mp.workdps(DPS):
        s = mp_softmax(z)
        n = len(s)
        return [
            [
                s[i] * mpmath.fsum(s[k] for k in range(n) if k != i) if i == j else -s[i] * s[j]
                for j in range(n)
            ]
            for i in range(n)
        ]


# ---------------------------------------------------------------- information theory


def mp_self_information(p) -> mpf:
    """I(p) = −log p."""
    with mp.workdps(DPS):
        return -mpmath.log(_mp(p))


def _plogp(p: mpf) -> mpf:
    """p log p with the convention 0 · log 0 = 0."""
    return mpf(0) if p == 0 else p * mpmath.log(p)


def mp_entropy(p: Iterable) -> mpf:
    """H(p) = −Σ p_i log p_i over one row (not renormalised)."""
    with mp.workdps(DPS):
        return -mpmath.fsum(_plogp(_mp(v)) for v in p)


def mp_binary_entropy(p) -> mpf:
    """H_b(p) = −p log p − (1 − p) log1p(−p).

    ``log1p(−p)``, not ``log(1 − p)``: even at 60 digits 1 − 1e−308 rounds to 1.
    """
    with mp.workdps(DPS):
        x = _mp(p)
        return -_plogp(x) - (mpf(0) if x == 1 else (1 - x) * mpmath.log1p(-x))


def mp_kl_divergence(p: Iterable, q: Iterable) -> mpf:
    """D(p‖q) = Σ p_i log(p_i / q_i) over one row; 0 where p_i = 0, +inf where q_i = 0 < p_i.

    Each term is correct to the working precision, but their sum cancels when p ≈ q
    (terms of ±1e-7 summing to 1e-13 lose 6 digits), so this one works at twice ``DPS``
    and leaves ≥ 60 correct digits for any cancellation a float64 test row produces.
    """
    with mp.workdps(2 * DPS):
        terms = []
        for a, b in zip(p, q, strict=True):
            a, b = _mp(a), _mp(b)
            if a == 0:
                terms.append(mpf(0))
            elif b == 0:
                terms.append(mpf("inf"))
            else:
                terms.append(a * mpmath.log(a / b))
        return mpmath.fsum(terms)


def mp_cross_entropy(p: Iterable, q: Iterable) -> mpf:
    """H(p, q) = −Σ p_i log q_i over one row; 0 where p_i = 0 (even if q_i = 0)."""
    with mp.workdps(DPS):
        terms = []
        for a, b in zip(p, q, strict=True):
            a, b = _mp(a), _mp(b)
            terms.append(mpf(0) if a == 0 else -a * mpmath.log(b))
        return mpmath.fsum(terms)
