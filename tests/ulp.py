"""Errors in units in the last place (ULP), and a per-function record of the worst one.

The accuracy tests call :func:`record` for every function they check; ``conftest.py``
prints the table of worst errors at the end of the run, so `make test` reports the
figures DESIGN.md promises (≤ 1 ULP or ≤ 2 ULP against mpmath).
"""

from __future__ import annotations

import numpy as np

#: function name -> worst ULP error seen in this pytest session
WORST: dict[str, float] = {}


def ulp_error(actual, expected) -> np.ndarray:
    """Return |actual − expected| / ulp(expected), elementwise, for float64 arrays.

    ``expected`` must be the correctly rounded float64 value of an exact reference (for
    example an mpmath result converted with ``float``). Equal values, including equal
    infinities and two NaNs, count as 0 ULP; a NaN or infinity against a finite value
    counts as ``inf``. Near zero ``ulp(expected)`` is the subnormal spacing, so an absolute
    error of a few 1e-324 is a few ULP, as it should be.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    a, e = np.broadcast_arrays(a, e)
    same = (a == e) | (np.isnan(a) & np.isnan(e))
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(a - e) / np.spacing(np.abs(e))
    err = np.where(same, 0.0, err)
    return np.where(np.isnan(err), np.inf, err)


def record(name: str, actual, expected) -> float:
    """Record the worst ULP error of ``actual`` against ``expected`` under ``name``."""
    worst = float(np.max(ulp_error(actual, expected), initial=0.0))
    WORST[name] = max(WORST.get(name, 0.0), worst)
    return worst
