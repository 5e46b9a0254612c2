"""Argument checks and reductions shared by every public function.

Every public function of :mod:`autograder` funnels its inputs through these helpers so
that a bad argument always produces the same kind of error: a :class:`ValueError` whose
message names the argument and says what was expected.
"""

from __future__ import annotations

import numpy as np

REDUCTIONS = ("mean", "sum", "none")


def as_float_array(x, name: str) -> np.ndarray:
    """Return ``x`` as a float64 ndarray, or raise ``ValueError`` naming ``name``.

    Booleans, integers and floats of any width are accepted (the library computes in
    float64, DESIGN.md); complex numbers, strings, objects and ragged lists are refused.
    """
    try:
        arr = np.asarray(x)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array of real numbers: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} must hold real numbers (bool, int or float), got dtype {arr.dtype}"
        )
    return arr.astype(np.float64, copy=False)


def as_probabilities(x, name: str) -> np.ndarray:
    """Like :func:`as_float_array`, and also require every non-NaN entry in [0, 1]."""
    arr = as_float_array(x, name)
    with np.errstate(invalid="ignore"):
        bad = (arr < 0) | (arr > 1)
    if np.any(bad):
        raise ValueError(f"{name} must be probabilities in [0, 1]; found {arr[bad].flat[0]!r}")
    return arr


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have exactly the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}"
        )


def check_reduction(reduction) -> str:
    """Return ``reduction`` if it is one of ``"mean"``, ``"sum"``, ``"none"``."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def check_base(base) -> float | None:
    """Return the logarithm base as a float (``None`` means natural log).

    A base must be a positive real number other than 1, otherwise ``log_base`` is
    undefined or infinite.
    """
    if base is None:
        return None
    try:
        b = float(base)
    except (TypeError, ValueError):
        raise ValueError(f"base must be a positive number other than 1, got {base!r}") from None
    if not (b > 0 and b != 1 and np.isfinite(b)):
        raise ValueError(f"base must be a positive number other than 1, got {base!r}")
    return b


def to_base(nats: np.ndarray, base: float | None) -> np.ndarray:
    """Convert a quantity in nats to units of ``log_base`` (bits for 2, bans for 10)."""
    if base is None:
        return nats
    return nats / np.log(base)


def reduce(values: np.ndarray, reduction: str, *, denominator=None):
    """Apply a PyTorch-style reduction to per-element loss ``values``.

    ``"none"`` returns ``values`` unchanged; ``"sum"`` returns Σ values; ``"mean"`` returns
    Σ values / denominator, where the denominator defaults to ``values.size`` (an empty
    input therefore gives NaN, as in PyTorch). ``np.sum`` uses pairwise summation, so the
    rounding error grows like O(log n), not O(n).
    Scalars are returned as 0-d float64 arrays' items (Python-visible ``np.float64``).
    """
    if reduction == "none":
        return values
    total = np.sum(values, dtype=np.float64)
    if reduction == "sum":
        return np.float64(total)
    if denominator is None:
        denominator = values.size
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.float64(total / np.float64(denominator))
