"""The data model of a test battery and the judge that turns outcomes into a score.

A **battery** holds, for one assignment, one :class:`Test` per nbgrader test cell (same
``grade_id``, same points). A test holds :class:`Case` s: the cell's visible cases *and*
its hidden ones. Each case is run by :func:`autograder.batteries.harness.run_case`
(in the student's kernel, or in the grader's sandbox) and the outcomes come back to
:meth:`Battery.judge`, which runs in the trusted process and compares them with the
reference computed there (:meth:`Battery.expected`).

Scoring is **all-or-nothing per test cell**, as nbgrader scores a cell: full points when
every case passes, 0 otherwise. The verdict's message lists the distinct misconceptions
(case categories, see :mod:`autograder.batteries.messages`) that failed, up to three,
never a case's inputs.

Type policy (what a returned value must be; nothing of the student's object is trusted
until its exact type is known):

- array results: ``type(value) is numpy.ndarray`` exactly (no subclass, no list), dtype
  ``float64`` where the reference is float (``int``/``bool`` kinds must match otherwise),
  exactly the reference's shape;
- scalar results (the reference returns a 0-d value): a Python ``float`` or ``int``, a
  numpy scalar, or a 0-d ndarray; a float must be float64 (``np.float32`` fails);
- tuple results: a tuple or list with the same number of items, each judged as above;
- then NaN/±inf positions must match the reference's, every entry where the reference is
  finite must be finite, and ``|value − expected| ≤ atol + rtol·|expected|`` elementwise
  (defaults rtol = atol = 1e-7, PyTorch's float64 defaults). Values are converted with
  ``np.array(value, dtype=..., copy=True)`` only after the type check.

Extension points: ``Case.expected`` fixes the expected value when the reference cannot
compute it; ``Test.reference`` replaces ``autograder.<function>`` as the reference;
``Test.compare(value, expected, case) -> str | None`` replaces the elementwise comparison
(``value`` is the checked plain-data copy; return ``None`` to accept or a short reason to
reject); ``Case.expect_error`` names an exception type the student must raise;
``Case.evaluate_at`` gives the points of the ``"sympy"`` protocol.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder.batteries import harness
from autograder.batteries.messages import DEFAULT_MESSAGES, NOT_IMPLEMENTED

#: Imports refused in student code unless a battery says otherwise: the reference itself
#: and libraries that would do the exercise for the student.
DEFAULT_FORBIDDEN = ("autograder", "scipy", "torch", "tensorflow", "jax", "sklearn")

_NUMPY_SCALARS = (
    np.float64,
    np.float32,
    np.float16,
    np.longdouble,
    np.int64,
    np.int32,
    np.int16,
    np.int8,
    np.uint64,
    np.uint32,
    np.uint16,
    np.uint8,
    np.bool_,
)
_MAX_DEPTH = 4
#: Case categories whose failures are worth a diagnosis (specific ones explain themselves).
_GENERIC_CATEGORIES = ("value", "random")
#: Case categories that probe the input's dtype: a dtype rejection there is the misconception.
_DTYPE_CATEGORIES = ("float32", "dtype", "int_input")


@dataclass(frozen=True)
class Case:
    """One call of the student's function.

    ``args``/``kwargs``: plain data (ndarrays, numbers, strings, tuples, lists,
    :class:`~autograder.batteries.harness.FunctionRef`). ``category``: the misconception
    the case probes (keys the feedback message). ``expect_error``: the name of the
    exception type the function must raise (e.g. ``"ValueError"``). ``evaluate_at``: the
    SymPy protocol's point(s). ``expected``: a fixed expected value (``None``: ask the
    reference). ``rtol``/``atol``: per-case tolerances (``None``: the test's).
    """

    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    category: str = "value"
    expect_error: str | None = None
    evaluate_at: Any = None
    expected: Any = None
    rtol: float | None = None
    atol: float | None = None


@dataclass(frozen=True)
class Test:
    """The battery's twin of one nbgrader test cell (same ``grade_id``, same ``points``)."""

    __test__ = False  # not a pytest test class, despite its name

    grade_id: str
    function: str
    points: float
    cases: Sequence[Case]
    rtol: float = 1e-7
    atol: float = 1e-7
    protocol: str = "call"
    compare: Callable[[Any, Any, Case], str | None] | None = None
    reference: Callable | None = None
    messages: Mapping[str, str] = field(default_factory=dict)
    #: names the misconception behind a wrong value when the generic :func:`diagnose`
    #: cannot (``(value, expected, case) -> category | None``; e.g. swapped arguments)
    diagnose: Callable[[Any, Any, Case], str | None] | None = None
    #: numpy floating-point errors that must not happen inside the student's function
    #: (``np.errstate`` names: "over", "invalid", "divide", "under"); see ``harness.run_case``.
    raise_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """The judged result of one test cell.

    ``categories``: the misconceptions behind the failed checks, distinct, in case order
    (the first is the one the battery's case order makes the real cause; see
    :meth:`Battery.judge`). Besides case categories, a failure may be one of
    :data:`~autograder.batteries.messages.OUTCOME_CATEGORIES` (``"type"``,
    ``"not_implemented"``, ``"raised"`` …).
    """

    score: float
    max_score: float
    message: str
    categories: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score


class _Reject(Exception):
    """A returned value broke the type policy or the comparison; ``kind`` says how."""

    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def _plain(value, depth: int = 0):
    """Return a plain-data copy of an untrusted ``value`` or raise :class:`_Reject`.

    Only exact types are accepted, so no method of a student-defined subclass ever runs.
    Lists stay lists (a list where an array is expected is then reported as such).
    """
    kind = type(value)
    if kind is int and not -(2**63) <= value < 2**64:
        try:  # an honest `10**400` must fail with a message, not crash the judge
            float(value)
        except OverflowError:
            raise _Reject(
                "type", "your function returned an integer too large for a float64 (over 1e308)"
            ) from None
    if value is None or kind in (bool, int, float):
        return value
    if kind is np.ndarray:
        if value.dtype.kind not in "biuf" or value.dtype.fields is not None:
            raise _Reject(
                "type", f"return a numpy array of float64, got dtype kind {value.dtype.kind!r}"
            )
        return np.array(value, dtype=value.dtype, copy=True)
    if kind in _NUMPY_SCALARS:
        return np.array(value, dtype=value.dtype, copy=True)
    if kind in (tuple, list) and depth < _MAX_DEPTH:
        items = [_plain(v, depth + 1) for v in value]
        return tuple(items) if kind is tuple else items
    raise _Reject("type", f"return a numpy array (np.ndarray of float64), got {kind.__name__}")


def _as_expected(expected):
    """Normalise a reference result: tuples stay tuples, everything else becomes an array."""
    if isinstance(expected, (tuple, list)):
        return tuple(_as_expected(e) for e in expected)
    return np.array(expected, copy=True)


def _check_type(value, expected: np.ndarray):
    """Apply the type policy to one plain value; return it as an ndarray of the right dtype."""
    if isinstance(value, list):
        raise _Reject("type", "return a numpy array (np.ndarray of float64), not a list")
    if isinstance(value, tuple):
        raise _Reject("type", "return a numpy array (np.ndarray of float64), not a tuple")
    if value is None:
        raise _Reject("type", "the function returned None: did you forget `return`?")
    if expected.ndim == 0:
        arr = np.array(value, copy=True)
        if arr.ndim != 0:
            shown = _shape_shown(arr.shape, ())
            raise _Reject("shape", f"return a single number (shape ()), not {shown}")
    else:
        if type(value) is not np.ndarray:
            raise _Reject(
                "type", f"return a numpy array (np.ndarray of float64), not {type(value).__name__}"
            )
        arr = value
    if expected.dtype.kind == "f":
        is_python_number = type(value) in (int, float)
        if arr.dtype != np.float64 and not is_python_number:
            raise _Reject("dtype", f"return float64 values, got {arr.dtype}")
        arr = np.array(arr, dtype=np.float64, copy=True)
    elif expected.dtype.kind in "biu" and arr.dtype.kind not in "biu":
        raise _Reject("dtype", f"return integers, got {arr.dtype}")
    if arr.shape != expected.shape:
        shown = _shape_shown(arr.shape, expected.shape)
        raise _Reject("shape", f"expected shape {expected.shape}, got {shown}")
    return arr


def _shape_shown(shape: tuple, expected_shape: tuple) -> str:
    """A returned array's shape as feedback may show it.

    A shape is a row of free integers: code that saw hidden inputs could write them into
    it. It is shown exactly when it is near the expected one (at most one more dimension,
    no size above the largest expected size + 1: the honest mistakes, ``(n, 1)``, ``(n, n)``,
    ``(1,)``), otherwise only by its number of dimensions.

    >>> _shape_shown((3, 1), (3,)), _shape_shown((7, 250), (3,))
    ('shape (3, 1)', 'an array of 2 dimension(s) and other sizes')
    """
    limit = max(expected_shape, default=1) + 1
    if len(shape) <= len(expected_shape) + 1 and all(n <= limit for n in shape):
        return f"shape {shape}"
    return f"an array of {len(shape)} dimension(s) and other sizes"


def _compare_arrays(arr: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> None:
    """Raise :class:`_Reject` unless ``arr`` matches ``expected`` within the tolerances."""
    if expected.dtype.kind in "biu":
        if not np.array_equal(arr, expected):
            raise _Reject("value", "wrong value")
        return
    e = expected.astype(np.float64)
    finite = np.isfinite(e)
    if np.any(finite & ~np.isfinite(arr)):
        raise _Reject("nonfinite", "got NaN or inf where the correct answer is finite")
    special = ~finite
    nan_ok = np.isnan(arr[special]) == np.isnan(e[special])
    inf_ok = np.where(np.isnan(e[special]), True, arr[special] == e[special])
    if not (np.all(nan_ok) and np.all(inf_ok)):
        raise _Reject(
            "special", "the correct answer is inf or NaN at some entries and yours is not"
        )
    with np.errstate(all="ignore"):
        close = np.abs(arr[finite] - e[finite]) <= atol + rtol * np.abs(e[finite])
    if not np.all(close):
        raise _Reject("value", f"values off by more than rtol={rtol:g}, atol={atol:g}")


#: Constant ratios value/expected that betray a misconception, and its message category.
_LN2, _LN10 = float(np.log(2.0)), float(np.log(10.0))
_TELLTALE_RATIOS = (
    (1 / _LN2, "base"),  # log2 where ln was asked (or the reverse)
    (_LN2, "base"),
    (1 / _LN10, "base"),  # log10 where ln was asked
    (_LN10, "base"),
    (_LN2 / _LN10, "base"),
    (_LN10 / _LN2, "base"),
    (-1.0, "sign"),
)


def diagnose(value, expected) -> str | None:
    """Name the misconception behind a wrong value when it is recognisable, else ``None``.

    Recognised: every entry off by the same log-base factor (``"base"``), by −1
    (``"sign"``), or a single number off by an integer factor ≥ 2 or its inverse, the
    mark of a sum where a mean was asked or the reverse (``"reduction"``).
    """
    v, e = value, expected
    if isinstance(v, tuple) or isinstance(e, tuple) or np.shape(v) != np.shape(e):
        return None
    v = np.asarray(v, dtype=np.float64)
    e = np.asarray(e, dtype=np.float64)
    mask = np.isfinite(v) & np.isfinite(e) & (np.abs(e) > 1e-12)
    if not np.any(mask):
        return None
    with np.errstate(all="ignore"):
        ratios = v[mask] / e[mask]
    for ratio, category in _TELLTALE_RATIOS:
        if np.allclose(ratios, ratio, rtol=1e-6, atol=0.0):
            return category
    if v.ndim == 0:
        r = float(ratios[0])
        for k in (r, 1.0 / r if r else 0.0):
            if k >= 1.5 and abs(k - round(k)) < 1e-6 * k:
                return "reduction"
    return None


def _judge_value(value, expected, rtol: float, atol: float) -> None:
    """Check a plain value (possibly a tuple) against the normalised expected result."""
    if isinstance(expected, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(expected):
            raise _Reject("type", f"return a tuple of {len(expected)} items")
        for v, e in zip(value, expected, strict=True):
            _judge_value(v, e, rtol, atol)
        return
    _compare_arrays(_check_type(value, expected), expected, rtol, atol)


def _shown(type_name: str) -> str:
    """An exception's type name as feedback may show it: built-in names only.

    A student could name an exception class after hidden inputs it saw; such a name
    must not travel back in the feedback.
    """
    builtin = getattr(builtins, type_name, None) if type_name.isidentifier() else None
    if isinstance(builtin, type) and issubclass(builtin, BaseException):
        return type_name
    return "an exception of a type defined in your code"


#: Public name of :func:`_shown`, for the grader's reading of sandbox reports.
exception_name = _shown


def _root(module_name) -> str:
    return str(module_name or "").split(".")[0]


def find_forbidden_imports(source: str, forbidden: Sequence[str]) -> list[str]:
    """Return the forbidden top-level modules that ``source`` imports (statically).

    >>> find_forbidden_imports("import numpy as np\\nfrom scipy.special import softmax",
    ...                        ["scipy"])
    ['scipy']
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            names = [a.value for a in node.args[:1] if isinstance(a, ast.Constant)]
        for name in names:
            if _root(name) in forbidden and _root(name) not in found:
                found.append(_root(name))
    return found


def _code_names(code: types.CodeType) -> set[str]:
    """Every global/attribute name used by a code object and the code objects nested in it."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def forbidden_in_function(func, forbidden: Sequence[str]) -> list[str]:
    """Return the forbidden modules a live function reaches through its globals or imports.

    Used in the student's kernel, where the source is not at hand; the grader checks the
    submitted source with :func:`find_forbidden_imports` instead.
    """
    code = getattr(func, "__code__", None)
    if code is None:
        return []
    found = []
    namespace = dict(getattr(func, "__globals__", {}))
    for name, cell in zip(code.co_freevars, func.__closure__ or (), strict=False):
        try:  # names a nested function reads from its enclosing one
            namespace[name] = cell.cell_contents
        except ValueError:  # an empty cell
            pass
    for name in sorted(_code_names(code) | set(code.co_freevars)):
        obj = namespace.get(name)
        if name in forbidden:  # `import scipy` inside the function body
            root = name
        elif isinstance(obj, types.ModuleType):
            root = _root(obj.__name__)
        else:  # `from scipy.special import softmax` at the top of the notebook
            root = _root(getattr(obj, "__module__", None))
        if root in forbidden and root not in found:
            found.append(root)
    return found


@dataclass
class Battery:
    """All graded tests of one assignment, and the judge."""

    assignment: str
    tests: Sequence[Test]
    forbidden_imports: Sequence[str] = DEFAULT_FORBIDDEN
    messages: Mapping[str, str] = field(default_factory=dict)
    allowed: Sequence[str] = ("numpy",)  # named in the forbidden-import message

    def __post_init__(self):
        ids = [t.grade_id for t in self.tests]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate grade_id in battery {self.assignment}: {ids}")
        self._expected_cache: dict[tuple[str, int], Any] = {}

    @property
    def grade_ids(self) -> list[str]:
        return [t.grade_id for t in self.tests]

    @property
    def max_score(self) -> float:
        return float(sum(t.points for t in self.tests))

    def test(self, grade_id: str) -> Test:
        """Return the test whose ``grade_id`` is given (``KeyError`` naming the known ones)."""
        for t in self.tests:
            if t.grade_id == grade_id:
                return t
        raise KeyError(f"{self.assignment} has no test {grade_id!r}; known: {self.grade_ids}")

    def message_for(self, test: Test, category: str) -> str:
        """The feedback for a failed case of ``category``: test, battery, then defaults."""
        for table in (test.messages, self.messages, DEFAULT_MESSAGES):
            if category in table:
                return table[category]
        return DEFAULT_MESSAGES["value"]

    def forbidden_message(self, modules: Sequence[str]) -> str:
        return (
            f"your code uses {', '.join(modules)}, which this assignment does not allow: "
            f"write the computation yourself with {' and '.join(self.allowed)}"
        )

    def expected(self, test: Test, case: Case):
        """The reference result for ``case``, computed in this (trusted) process."""
        key = (test.grade_id, id(case))
        if key not in self._expected_cache:
            self._expected_cache[key] = self._compute_expected(test, case)
        return self._expected_cache[key]

    def _compute_expected(self, test: Test, case: Case):
        if case.expected is not None:
            return case.expected
        reference = test.reference
        if reference is None:
            reference = getattr(importlib.import_module("autograder"), test.function)
        args = harness.resolve(tuple(case.args))
        kwargs = harness.resolve(dict(case.kwargs))
        with np.errstate(all="ignore"):
            result = reference(*args, **kwargs)
            if test.protocol == "sympy":
                result = harness.evaluate_sympy(result, case.evaluate_at)
        return result

    def _judge_case(self, test: Test, case: Case, outcome) -> tuple[str, str] | None:
        """Return ``None`` when the case passed, else ``(category, student-facing reason)``.

        The category is the case's own, the misconception :func:`diagnose` recognised in
        a generic case's numbers, or an outcome category (``"type"``, ``"raised"`` …).
        """
        category_message = self.message_for(test, case.category)
        if isinstance(outcome, harness.Failed):
            if outcome.reason == harness.TOO_FEW_CALLS:
                # f not evaluated around every entry: what the case probes (a 2-D x, ...)
                return case.category, f"{category_message} ({outcome.reason})"
            return "did_not_finish", f"your function did not finish: {outcome.reason}"
        if isinstance(outcome, harness.Raised):
            if case.expect_error is not None and outcome.type_name == case.expect_error:
                return None
            if outcome.type_name == "NotImplementedError":
                return "not_implemented", NOT_IMPLEMENTED
            if outcome.type_name == "FloatingPointError" and test.raise_on:
                return case.category, (
                    f"{category_message} (numpy reported a floating-point "
                    f"{'/'.join(test.raise_on)} error inside your function, even if the "
                    "value came out right)"
                )
            if case.expect_error is not None:
                got = _shown(outcome.type_name)
                return (
                    case.category,
                    f"{category_message} (expected {case.expect_error}, got {got})",
                )
            if test.protocol == "sympy" and outcome.type_name in ("TypeError", "ValueError"):
                return "sympy_symbols", (
                    "return a SymPy expression in the named symbols only "
                    f"({outcome.type_name} while evaluating it)"
                )
            return "raised", (
                f"your function raised {_shown(outcome.type_name)} (on a {case.category!r} check)"
            )
        if not isinstance(outcome, harness.Returned):
            raise TypeError(f"not an outcome: {type(outcome).__name__}")
        if case.expect_error is not None:
            return case.category, (
                f"{category_message} (expected {case.expect_error}, but a value was returned)"
            )
        rtol = test.rtol if case.rtol is None else case.rtol
        atol = test.atol if case.atol is None else case.atol
        expected = self.expected(test, case)  # a failure here is the grader's own bug
        try:
            return self._judge_value_of(test, case, outcome.value, expected, rtol, atol)
        except Exception as exc:  # a value too odd for the checks: the student's failure
            return "type", (
                "your result could not be checked: return plain numbers or numpy arrays "
                f"({_shown(type(exc).__name__)} while reading it)"
            )

    def _judge_value_of(
        self, test: Test, case: Case, value, expected, rtol, atol
    ) -> tuple[str, str] | None:
        """Judge a returned ``value`` against ``expected``; ``None`` when it passes, else
        ``(category, reason)``."""
        category = case.category
        try:
            value = _plain(value)
            if test.compare is not None:
                try:
                    reason = test.compare(value, expected, case)
                except Exception as exc:  # a result too malformed for the compare hook
                    raise _Reject(
                        "type",
                        f"your result has the wrong structure ({_shown(type(exc).__name__)})",
                    ) from None
                if reason:
                    raise _Reject("value", str(reason))
            else:
                _judge_value(value, _as_expected(expected), rtol, atol)
        except _Reject as reject:
            if reject.kind == "dtype" and case.category in _DTYPE_CATEGORIES:
                # the case probes the dtype: the wrong dtype is its misconception
                return case.category, f"{self.message_for(test, case.category)} ({reject.detail})"
            if reject.kind in ("type", "dtype"):
                return reject.kind, reject.detail
            specific = None
            if test.diagnose is not None and reject.kind in ("value", "nonfinite", "special"):
                try:  # a value too odd to diagnose is still just a wrong value
                    specific = test.diagnose(value, expected, case)
                except Exception:
                    specific = None
            if specific is not None:
                category = specific
            elif reject.kind == "value":
                # name the misconception if the numbers betray it: any recognised one for a
                # generic case, and a sign error (exactly −expected) whatever the case probes
                diagnosis = diagnose(value, expected)
                if diagnosis in ("base", "reduction") and not self._takes(test, diagnosis):
                    diagnosis = None  # a telltale ratio names an option only where there is one
                if case.category in _GENERIC_CATEGORIES or diagnosis == "sign":
                    category = diagnosis or category
            return category, f"{self.message_for(test, category)} ({reject.detail})"
        return None

    def _takes(self, test: Test, option: str) -> bool:
        """Does the tested function have the keyword ``option`` (per its reference)?"""
        reference = test.reference
        if reference is None:
            reference = getattr(importlib.import_module("autograder"), test.function, None)
        try:
            return option in inspect.signature(reference).parameters
        except (TypeError, ValueError):  # no reference, or one without a signature
            return False

    def judge(self, test: Test, outcomes: Sequence) -> Verdict:
        """Score one test cell from one outcome per case (all-or-nothing)."""
        if len(outcomes) != len(test.cases):
            raise ValueError(
                f"{test.grade_id}: {len(outcomes)} outcomes for {len(test.cases)} cases"
            )
        reasons: dict[str, str] = {}  # one line per misconception: its first detail wins
        categories: dict[str, None] = {}  # the failed categories, in case order
        failed = 0
        for case, outcome in zip(test.cases, outcomes, strict=True):
            judged = self._judge_case(test, case, outcome)
            if judged is not None:
                category, reason = judged
                failed += 1
                categories.setdefault(category)
                reasons.setdefault(reason.rsplit(" (", 1)[0], reason)
        reasons = list(reasons.values())
        n = len(test.cases)
        if not failed:
            return Verdict(float(test.points), float(test.points), f"all {n} checks passed")
        lines = [f"{failed} of {n} checks failed:"] + [f"- {r}" for r in reasons[:3]]
        if len(reasons) > 3:
            lines.append(f"- … and {len(reasons) - 3} more kinds of failure")
        return Verdict(0.0, float(test.points), "\n".join(lines), tuple(categories))

    def run(self, test: Test, func) -> Verdict:
        """Run every case of ``test`` in this process and judge it (no sandbox)."""
        modules = forbidden_in_function(func, self.forbidden_imports)
        if modules:
            return Verdict(0.0, float(test.points), self.forbidden_message(modules), ("forbidden",))
        outcomes = [harness.run_case(func, test, case) for case in test.cases]
        return self.judge(test, outcomes)
