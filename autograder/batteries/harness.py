"""Call a student's function on one battery case and capture what came back.

This file is **self-contained** on purpose: it imports only the standard library and
numpy (SymPy lazily, for the ``"sympy"`` protocol) and never the reference package, so
the trusted grader can copy this one file into its sandbox and run student code with it.
The same function runs in the student's own kernel through
:func:`autograder.batteries.check`.

What the harness does not do is judge: it returns the *raw* output of the student's
function wrapped in an outcome, and the grader process calls ``Battery.judge`` on it.

Outcomes (one per case):

- :class:`Returned` ``(value)`` — the function returned ``value`` (untrusted, raw);
- :class:`Raised` ``(type_name, message)`` — it raised; only the exception's *type name*
  is ever shown to the student (its message could smuggle hidden inputs out);
- :class:`Failed` ``(reason)`` — it never finished (timeout, crash); set by the grader.

Protocols (``test.protocol``):

- ``"call"``: ``func(*case.args, **case.kwargs)``;
- ``"sympy"``: the function returns a SymPy expression or Matrix; the harness substitutes
  the grader-chosen points ``case.evaluate_at`` (a mapping ``{symbol name: number}`` or a
  list of such mappings) and returns a float64 ndarray: shape ``expr_shape`` for one point,
  ``(n_points, *expr_shape)`` for a list. Symbols are matched **by name**, so a student's
  ``sympy.Symbol("z")`` and the grader's ``z`` are the same variable. An expression with a
  free symbol the case does not give raises ``ValueError`` (reported as ``Raised``).

Arguments may contain :class:`FunctionRef` ``(name)`` markers: a plain-data stand-in for
a function argument (ps5's ``numerical_gradient(f, x)``). The harness replaces each marker
by the function of that name in :data:`FUNCTIONS` before the call, so no code crosses
the sandbox boundary.

``test`` and ``case`` are read by attribute *or* by key, so the grader may pass the
battery's ``Test``/``Case`` objects or plain dicts decoded from JSON.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "FORMULAS",
    "FUNCTIONS",
    "Failed",
    "FunctionRef",
    "Raised",
    "Returned",
    "evaluate_sympy",
    "expression_from_tree",
    "expression_tree",
    "resolve",
    "run_case",
    "scalar_function",
]


@dataclass(frozen=True)
class Returned:
    """The student's function returned ``value`` (raw, not yet checked)."""

    value: Any


@dataclass(frozen=True)
class Raised:
    """The student's function raised an exception of type ``type_name``."""

    type_name: str
    message: str = ""


@dataclass(frozen=True)
class Failed:
    """The call never produced a result: timeout, crash, killed (set by the grader)."""

    reason: str


@dataclass(frozen=True)
class FunctionRef:
    """A plain-data reference to a scalar test function known to the harness by ``name``."""

    name: str


def _sum_of_squares(x):
    """f(x) = Σ x², gradient 2x."""
    return float(np.sum(np.asarray(x, dtype=np.float64) ** 2))


def _logsumexp(x):
    """f(x) = log Σ exp x (max-shifted), gradient softmax(x)."""
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x)
    return float(m + np.log(np.sum(np.exp(x - m))))


def _sin_product(x):
    """f(x) = Σ sin(x_i) x_{i+1} (cyclic): couples neighbouring coordinates."""
    x = np.asarray(x, dtype=np.float64)
    return float(np.sum(np.sin(x) * np.roll(x, -1)))


def _rosenbrock(x):
    """f(x) = Σ 100 (x_{i+1} − x_i²)² + (1 − x_i)²."""
    x = np.asarray(x, dtype=np.float64).ravel()
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


#: The formulas a case may name with :class:`FunctionRef`; each maps an ndarray to a float.
#: A case never receives one of these: see :func:`scalar_function`.
FORMULAS = {
    "sum_of_squares": _sum_of_squares,
    "logsumexp": _logsumexp,
    "sin_product": _sin_product,
    "rosenbrock": _rosenbrock,
}
FUNCTIONS = FORMULAS  # the names a FunctionRef may carry (kept for the batteries' imports)


def scalar_function(name: str):
    """A fresh function ``f(x) -> float`` computing the formula ``name``, counting its calls.

    Every call of this makes a new closure, all of them from the one ``def f`` below: the
    function a student's ``numerical_gradient`` receives has the same ``__name__``,
    ``__qualname__`` and ``__code__`` whatever the formula, so it cannot be recognised by
    name and answered from a table; ``f.calls`` counts its evaluations (see
    :func:`run_case`, which refuses a "numerical" gradient that never evaluated f).
    """
    formula = FORMULAS[name]
    calls = [0]

    def f(x):
        calls[0] += 1
        return formula(np.asarray(x, dtype=np.float64))

    f.calls = calls
    return f


#: Why a numerical-gradient case fails when f was evaluated fewer times than x has entries.
TOO_FEW_CALLS = (
    "it evaluated f fewer times than x has entries: a numerical gradient must evaluate f "
    "around every entry of x"
)


def _get(obj, name: str, default=None):
    """Read ``name`` from an object attribute or a mapping key."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def resolve(value, made: list | None = None):
    """Return a deep copy of ``value`` with every :class:`FunctionRef` replaced by a fresh
    :func:`scalar_function` (appended to ``made`` when given).

    The copy also protects the battery's inputs from a student function that writes into
    its arguments in place.
    """
    if isinstance(value, FunctionRef):
        f = scalar_function(value.name)
        if made is not None:
            made.append(f)
        return f
    if isinstance(value, tuple):
        return tuple(resolve(v, made) for v in value)
    if isinstance(value, list):
        return [resolve(v, made) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, made) for k, v in value.items()}
    return copy.deepcopy(value)


def _points(evaluate_at):
    """Normalise ``evaluate_at`` to (list of point mappings, whether it was a list)."""
    if evaluate_at is None:
        return [{}], False
    if isinstance(evaluate_at, dict):
        return [evaluate_at], False
    return list(evaluate_at), True


def evaluate_sympy(expr, evaluate_at) -> np.ndarray:
    """Evaluate a SymPy expression or Matrix at the given point(s) into a float64 ndarray.

    Symbols are matched by name. Raises ``TypeError`` for a non-SymPy value and
    ``ValueError`` for a free symbol without a value or a non-real result.
    """
    import sympy  # lazily: only ps5 needs it, and it costs ~0.3 s to import

    if isinstance(expr, (int, float)) and not isinstance(expr, bool):
        expr = sympy.Float(expr)
    if not isinstance(expr, (sympy.Basic, sympy.MatrixBase)):
        raise TypeError(f"expected a SymPy expression, got {type(expr).__name__}")
    points, many = _points(evaluate_at)
    results = []
    for point in points:
        free = {s.name: s for s in expr.free_symbols}
        missing = sorted(set(free) - set(point))
        if missing:
            raise ValueError(f"the expression uses symbols without values: {missing}")
        subs = {free[name]: sympy.Float(point[name], 30) for name in free}
        if isinstance(expr, sympy.MatrixBase):
            entries = [sympy.N(e.subs(subs), 30) for e in expr]
            shape = expr.shape
        else:
            entries = [sympy.N(expr.subs(subs), 30)]
            shape = ()
        values = []
        for e in entries:
            c = complex(e)
            if c.imag != 0:
                raise ValueError("the expression is not real at a test point")
            values.append(c.real)
        results.append(np.array(values, dtype=np.float64).reshape(shape))
    return np.stack(results) if many else results[0]


#: SymPy classes an expression tree may name (functions of one or more expressions).
TREE_FUNCTIONS = (
    "Add", "Mul", "Pow", "exp", "log", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh",
    "asin", "acos", "atan", "Abs", "sign", "Max", "Min", "Heaviside", "erf",
)  # fmt: skip
#: Named constants a tree may use.
TREE_CONSTANTS = ("pi", "E", "oo", "-oo", "zoo", "nan")
#: Caps on a tree: nodes, nesting, digits of one integer.
TREE_MAX_NODES, TREE_MAX_DEPTH, TREE_MAX_DIGITS = 20_000, 200, 2_000


def expression_tree(expr):
    """A SymPy expression or Matrix as plain JSON-able data (``TypeError`` for anything else).

    Nodes: ``{"s": name}`` a symbol, ``{"i": "digits"}`` an integer, ``{"q": [p, q]}`` a
    rational, ``{"f": "digits", "p": precision}`` a float, ``{"c": name}`` a constant,
    ``{"fn": name, "a": [...]}`` one of :data:`TREE_FUNCTIONS`, ``{"m": [rows, cols, [...]]}``
    a Matrix. Built where student code ran, rebuilt by :func:`expression_from_tree` in a
    process that did not, from these names only.
    """
    import sympy

    if isinstance(expr, (int, float)) and not isinstance(expr, bool):
        expr = sympy.Float(expr) if isinstance(expr, float) else sympy.Integer(expr)
    count = [0]

    def walk(e, depth):
        count[0] += 1
        if count[0] > TREE_MAX_NODES or depth > TREE_MAX_DEPTH:
            raise ValueError("the expression is too large")
        if isinstance(e, sympy.MatrixBase):
            if depth:
                raise TypeError("a Matrix inside an expression")
            return {"m": [e.rows, e.cols, [walk(v, depth + 1) for v in e]]}
        if not isinstance(e, sympy.Basic):
            raise TypeError(f"expected a SymPy expression, got {type(e).__name__}")
        if isinstance(e, sympy.Symbol):
            return {"s": str(e.name)}
        if isinstance(e, sympy.Integer):
            return {"i": str(int(e))}
        if isinstance(e, sympy.Rational):
            return {"q": [str(int(e.p)), str(int(e.q))]}
        if isinstance(e, sympy.Float):
            return {"f": str(e), "p": int(e._prec)}
        for name in TREE_CONSTANTS:
            if e == sympy.sympify(name) and not e.free_symbols:
                return {"c": name}
        name = type(e).__name__
        if name not in TREE_FUNCTIONS or type(e) is not getattr(sympy, name):
            raise TypeError(f"the grader does not evaluate {name}")
        return {"fn": name, "a": [walk(a, depth + 1) for a in e.args]}

    return walk(expr, 0)


def expression_from_tree(tree):
    """Rebuild a SymPy expression from :func:`expression_tree`'s data, checking every node.

    Only the names of :data:`TREE_FUNCTIONS` and :data:`TREE_CONSTANTS` are looked up; no
    text is parsed as an expression. Malformed trees raise ``ValueError``.
    """
    import sympy

    count = [0]

    def build(node, depth):
        count[0] += 1
        if count[0] > TREE_MAX_NODES or depth > TREE_MAX_DEPTH or not isinstance(node, dict):
            raise ValueError("not an expression tree")
        if "s" in node and isinstance(node["s"], str) and node["s"].isidentifier():
            return sympy.Symbol(node["s"])
        if "i" in node:
            return sympy.Integer(_digits(node["i"]))
        if "q" in node and isinstance(node["q"], list) and len(node["q"]) == 2:
            return sympy.Rational(_digits(node["q"][0]), _digits(node["q"][1]))
        if "f" in node and isinstance(node["f"], str) and len(node["f"]) < 100:
            precision = node.get("p")
            if type(precision) is not int or not 1 <= precision <= 1000:
                raise ValueError("bad float precision")
            float(node["f"])  # a number, or ValueError
            return sympy.Float(node["f"], precision=precision)
        if node.get("c") in TREE_CONSTANTS:
            return sympy.sympify(node["c"])
        if node.get("fn") in TREE_FUNCTIONS and isinstance(node.get("a"), list):
            return getattr(sympy, node["fn"])(*(build(a, depth + 1) for a in node["a"]))
        if depth == 0 and isinstance(node.get("m"), list) and len(node["m"]) == 3:
            rows, cols, items = node["m"]
            if type(rows) is not int or type(cols) is not int or not isinstance(items, list):
                raise ValueError("bad matrix")
            if rows * cols != len(items) or rows * cols > 10_000:
                raise ValueError("bad matrix")
            return sympy.Matrix(rows, cols, [build(v, depth + 1) for v in items])
        raise ValueError("not an expression tree")

    return build(tree, 0)


def _digits(text) -> int:
    if not isinstance(text, str) or len(text) > TREE_MAX_DIGITS:
        raise ValueError("bad integer")
    if not text.lstrip("-").isdigit():
        raise ValueError("bad integer")
    return int(text)


def _safe_str(exc: BaseException) -> str:
    """``str(exc)``, or ``""`` when a student-defined ``__str__`` itself fails."""
    try:
        return str(exc)
    except Exception:
        return ""


def run_case(func, test, case, evaluate: bool = True):
    """Call ``func`` on ``case`` under ``test``'s protocol; return an outcome, never raise.

    ``evaluate=False`` (the sandbox) returns a SymPy answer unevaluated: it is then turned
    into numbers by a process that never ran student code (:func:`expression_tree`). A case
    with a :class:`FunctionRef` fails with :data:`TOO_FEW_CALLS` when the function evaluated
    f fewer times than its array arguments have entries.

    Warnings (numpy's overflow and divide-by-zero among them) are silenced during the
    call: the output is judged, and a warning on stderr would make nbgrader score a cell 0.
    A test may instead list numpy floating-point errors in ``raise_on`` (for example
    ``("over", "invalid")``): those then raise ``FloatingPointError`` inside the student's
    function, which becomes a :class:`Raised` outcome. The sigmoid test uses it, because
    ``1 / (1 + exp(-z))`` overflows yet returns the right value.
    """
    made: list = []
    args = resolve(tuple(_get(case, "args", ()) or ()), made)
    kwargs = resolve(dict(_get(case, "kwargs", {}) or {}), made)
    protocol = _get(test, "protocol", "call")
    if protocol not in ("call", "sympy"):
        raise ValueError(f"unknown protocol {protocol!r}")  # a battery bug, not the student's
    try:
        raise_on = {kind: "raise" for kind in (_get(test, "raise_on", ()) or ())}
        with warnings.catch_warnings(), np.errstate(all="ignore"), np.errstate(**raise_on):
            warnings.simplefilter("ignore")
            value = func(*args, **kwargs)
            if protocol == "sympy" and evaluate:
                value = evaluate_sympy(value, _get(case, "evaluate_at"))
    except Exception as exc:  # any failure of student code becomes an outcome
        return Raised(type(exc).__name__, _safe_str(exc)[:500])
    if made:
        entries = sum(np.size(a) for a in args if isinstance(a, np.ndarray))
        if sum(f.calls[0] for f in made) < entries:
            return Failed(TOO_FEW_CALLS)
    return Returned(value)
