"""Battery of ps5_gradients: loss gradients, a numerical gradient, and SymPy derivatives.

One :class:`~autograder.batteries.core.Test` per test cell of
``solutions/ps5_gradients/ps5_gradients.ipynb`` (chapter:
book/cross_entropy_meets_softmax.md). Three kinds of test:

- ``softmax_cross_entropy_grad`` and ``sigmoid_cross_entropy_grad`` (the student version
  asks for ``(logits, target, *, reduction="mean")`` with ``"mean"``/``"sum"`` and integer
  class targets for the softmax): expected values from the reference functions of
  :mod:`autograder.classification`. Each has a ``_precision`` test whose cases use
  ``atol = 0``: the small gradient entry of a confidently correct prediction (≈ −4e−18 at
  logit 40) must keep its digits, which ``σ(x) − t`` and ``softmax − onehot`` lose.
- ``numerical_gradient(f, x, eps=1e-6)``: ``f`` cannot cross the sandbox boundary, so a
  case passes :class:`~autograder.batteries.harness.FunctionRef` ``(name)`` and the harness
  substitutes its own function of that name (``harness.FUNCTIONS``). The expected value is
  the *exact* gradient of that function (written out below, ``Case.expected``); central
  differences meet rtol = atol = 1e−7 with eps = 1e−6, forward differences (error ≈ eps)
  do not.
- SymPy answers (protocol ``"sympy"``): the student returns an expression in symbols
  named ``z``, ``y`` or ``z0, z1, z2``; the harness evaluates it at the case's points and
  the grader compares the numbers with closed forms written here (σ(1 − σ), σ − y,
  (σ − y)·σ(1 − σ), s_i(δ_ij − s_j)), never the text of the answer. A custom ``compare``
  names the two usual slips: a sign error and a missing or extra constant factor.

>>> BATTERY.max_score
17.0
"""

from __future__ import annotations

import numpy as np

from autograder.batteries.core import Battery, Case, Test
from autograder.batteries.harness import FunctionRef

ASSIGNMENT = "ps5_gradients"

MESSAGES = {
    "reduction": (
        "wrong result for the `reduction` option: with 'mean' the gradient is divided by the "
        "number of samples N (softmax) or of elements (sigmoid); with 'sum' it is not"
    ),
    "precision_softmax": (
        "the label entry of a confidently correct prediction lost its digits (0 or "
        "inaccurate instead of about −4e−18): p_y − 1 rounds to 0 when p_y rounds to 1; "
        "compute the label entry as −Σ_{c≠y} p_c"
    ),
    "precision_sigmoid": (
        "the derivative for a confidently correct logit lost its digits (0 or inaccurate "
        "instead of about −4e−18 at x = 40, t = 1): σ(x) − 1 rounds to 0; use "
        "(1 − t)·σ(x) − t·σ(−x) with a sigmoid that is accurate in both tails"
    ),
    "masked": (
        "wrong result for a −inf logit (a masked class): its probability is exactly 0 and "
        "the other entries must stay finite"
    ),
    "soft_target": (
        "wrong result for soft targets t in (0, 1): the derivative is σ(x) − t for any t, "
        "not only for t ∈ {0, 1}"
    ),
    "central": (
        "not accurate enough (errors of the order of eps): use central differences "
        "(f(x + eps·e_i) − f(x − eps·e_i)) / (2·eps); the forward difference "
        "(f(x + eps·e_i) − f(x)) / eps has an error proportional to eps"
    ),
    "shape": (
        "wrong result for a 2-D x: perturb every entry (loop over np.ndindex(x.shape)) and "
        "return an array with the shape of x"
    ),
    "eps": "wrong result when eps is passed: use the eps argument, not a fixed step",
    "int_input": (
        "wrong result for an x of integers: work on a float64 copy "
        "(np.array(x, dtype=np.float64)); an integer array truncates x + eps back to x"
    ),
    "sympy": (
        "your expression differs from the derivative at the grader's test points: "
        "differentiate with sp.diff and check the loss you differentiate"
    ),
}

# ---------------------------------------------------------------------------------------
# Gradients of the classification losses


_RNG = np.random.default_rng(20260605)
_LOGITS = _RNG.normal(size=(5, 4)) * 2.0
_LABELS = np.array([0, 3, 1, 1, 2])
_X = _RNG.normal(size=(3, 4)) * 3.0
_SOFT = _RNG.uniform(size=(3, 4))
_HARD = (_RNG.uniform(size=(3, 4)) < 0.5).astype(np.float64)


def _sum(*args, category: str) -> Case:
    """A case with ``reduction="sum"``: it fails for the formula, never for the mean."""
    return Case(args, {"reduction": "sum"}, category=category)


# The judge reports the first three kinds of failure in case order: the formula's cases
# (reduction="sum") come first and the "mean" cases last, so a wrong formula is never
# reported as a wrong reduction, and a forgotten 1/N fails the reduction cases alone.


def _softmax_grad_cases():
    hand = np.array([[0.0, 0.0], [np.log(3.0), 0.0]])
    return [
        _sum(hand, np.array([1, 0]), category="value"),
        _sum(np.array([[1000.0, 0.0, -1000.0]]), np.array([1]), category="overflow"),
        _sum(
            np.array([[800.0, -800.0, 0.0], [1e4, 1e4 - 1.0, -1e4]]),
            np.array([2, 1]),
            category="overflow",
        ),
        _sum(_LOGITS + 1e4, _LABELS, category="overflow"),
        _sum(_LOGITS, _LABELS, category="random"),
        _sum(
            np.array([[1.0, -np.inf, 0.5], [-np.inf, 2.0, 2.0]]),
            np.array([0, 2]),
            category="masked",
        ),
        _sum(np.zeros((3, 1)), np.zeros(3, dtype=np.int64), category="value"),
        Case((hand, np.array([1, 0])), {}, category="reduction"),
        Case((_LOGITS, _LABELS), {}, category="reduction"),
        Case((_LOGITS[:1], _LABELS[:1]), {}, category="reduction"),
    ]


def _softmax_precision_cases():
    return [
        Case(
            (np.array([[40.0, 0.0]]), np.array([0])),
            {"reduction": "sum"},
            category="precision_softmax",
            atol=0.0,
        ),
        Case(
            (np.array([[30.0, 0.0, -3.0], [1.0, 60.0, 2.0]]), np.array([0, 1])),
            {"reduction": "sum"},
            category="precision_softmax",
            atol=0.0,
        ),
    ]


def _sigmoid_grad_cases():
    hand_x = np.array([0.0, 0.0, np.log(3.0)])
    hand_t = np.array([0.0, 1.0, 0.0])
    return [
        _sum(hand_x, hand_t, category="value"),
        # a soft target apart, so that rounding t is not called a wrong formula
        _sum(np.array([np.log(3.0)]), np.array([0.25]), category="soft_target"),
        _sum(np.array([-1000.0, 1000.0]), np.array([1.0, 0.0]), category="overflow"),
        _sum(
            np.array([800.0, -800.0, 1e4, -1e4]),
            np.array([0.0, 1.0, 0.3, 0.7]),
            category="overflow",
        ),
        _sum(_X, _HARD, category="random"),
        _sum(_X, _SOFT, category="soft_target"),
        Case((hand_x, hand_t), {}, category="reduction"),
        Case((_X, _HARD), {}, category="reduction"),
    ]


def _sigmoid_precision_cases():
    return [
        Case(
            (np.array([40.0]), np.array([1.0])),
            {"reduction": "sum"},
            category="precision_sigmoid",
            atol=0.0,
        ),
        Case(
            (np.array([40.0, 60.0, 700.0, -50.0]), np.array([1.0, 1.0, 1.0, 0.0])),
            {"reduction": "sum"},
            category="precision_sigmoid",
            atol=0.0,
        ),
    ]


# ---------------------------------------------------------------------------------------
# numerical_gradient: exact gradients of the harness's named functions


def _exact_gradient(name: str, x: np.ndarray) -> np.ndarray:
    """∇f(x) in closed form for the scalar functions of ``harness.FUNCTIONS``."""
    x = np.asarray(x, dtype=np.float64)
    if name == "sum_of_squares":  # f = Σ x²
        return 2.0 * x
    if name == "logsumexp":  # f = log Σ exp x over every entry → softmax of every entry
        e = np.exp(x - np.max(x))
        return e / np.sum(e)
    if name == "sin_product":  # f = Σ_k sin(x_k) x_{k+1}, cyclic in the flattened order
        flat = x.ravel()
        grad = np.cos(flat) * np.roll(flat, -1) + np.sin(np.roll(flat, 1))
        return grad.reshape(x.shape)
    if name == "rosenbrock":  # f = Σ 100 (x_{k+1} − x_k²)² + (1 − x_k)²
        flat = x.ravel()
        grad = np.zeros_like(flat)
        inner = flat[1:] - flat[:-1] ** 2
        grad[:-1] += -400.0 * flat[:-1] * inner - 2.0 * (1.0 - flat[:-1])
        grad[1:] += 200.0 * inner
        return grad.reshape(x.shape)
    raise KeyError(name)


def _gradient_case(name: str, x, category: str, **kwargs) -> Case:
    x = np.asarray(x)
    return Case(
        (FunctionRef(name), x), kwargs, category=category, expected=_exact_gradient(name, x)
    )


def _differences(name: str, x: np.ndarray, eps: float, kind: str) -> np.ndarray:
    """Finite differences of the harness's function ``name`` at ``x`` (``kind``: "forward",
    "backward" or "central"), computed in the grader to recognise a student's slip."""
    from autograder.batteries.harness import FUNCTIONS

    f = FUNCTIONS[name]
    x = np.array(x, dtype=np.float64)
    grad = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += eps if kind != "backward" else 0.0
        down[idx] -= eps if kind != "forward" else 0.0
        grad[idx] = (f(up) - f(down)) / (2.0 * eps if kind == "central" else eps)
    return grad


def _diagnose_numerical(value, expected, case) -> str | None:
    """ "central" for forward or backward differences, "eps" for a fixed step of 1e-6 where
    the case passes another eps: both are recognised by redoing the slip in the grader."""
    name, x = case.args[0].name, case.args[1]
    eps = case.kwargs.get("eps", 1e-6)
    value = np.asarray(value, dtype=np.float64)

    def close(other):
        return value.shape == other.shape and np.allclose(value, other, rtol=1e-9, atol=1e-12)

    if any(close(_differences(name, x, eps, kind)) for kind in ("forward", "backward")):
        return "central"
    if eps != 1e-6 and close(_differences(name, x, 1e-6, "central")):
        return "eps"
    return None


def _numerical_gradient_cases():
    x_eps = np.array([0.3, -1.2, 2.0])
    return [
        _gradient_case("sum_of_squares", [1.0, -2.0, 0.5], "value"),
        _gradient_case("logsumexp", [0.3, -1.2, 2.0, 0.0], "value"),
        _gradient_case("rosenbrock", [1.2, 0.8, -0.5, 1.0], "central"),
        _gradient_case("sin_product", [[0.1, 1.3, -0.7], [2.0, -1.1, 0.4]], "shape"),
        _gradient_case("logsumexp", [[0.5, 0.25], [-1.0, 3.0], [0.0, 1.0]], "shape"),
        _gradient_case("sum_of_squares", [0.75, -1.5], "eps", eps=1e-4),
        _gradient_case("sum_of_squares", np.array([1, 2, -3]), "int_input"),
        _gradient_case("sin_product", [0.9], "value"),
        # a large eps on a curved function: only a gradient that uses the eps it was given
        # matches these central differences (the exact gradient does not)
        Case(
            (FunctionRef("logsumexp"), x_eps),
            {"eps": 0.5},
            category="eps",
            expected=_differences("logsumexp", x_eps, 0.5, "central"),
        ),
    ]


# ---------------------------------------------------------------------------------------
# SymPy answers: closed forms evaluated at grader-chosen points


def _sigmoid(z):
    import sympy

    return 1 / (1 + sympy.exp(-z))


def _ref_sigmoid_derivative():
    """σ′(z) = σ(z)(1 − σ(z))."""
    import sympy

    s = _sigmoid(sympy.Symbol("z"))
    return s * (1 - s)


def _ref_bce_logit_grad():
    """∂/∂z of −[y log σ + (1 − y) log(1 − σ)] = σ(z) − y."""
    import sympy

    return _sigmoid(sympy.Symbol("z")) - sympy.Symbol("y")


def _ref_mse_sigmoid_grad():
    """∂/∂z of ½(σ − y)² = (σ − y)·σ(1 − σ): the slowdown factor σ′(z)."""
    import sympy

    s = _sigmoid(sympy.Symbol("z"))
    return (s - sympy.Symbol("y")) * s * (1 - s)


def _ref_softmax_jacobian_entry(i, j):
    """∂s_i/∂z_j = s_i(δ_ij − s_j) for s = softmax(z0, z1, z2)."""
    import sympy

    zs = sympy.symbols("z0:3")
    total = sum(sympy.exp(v) for v in zs)
    s = [sympy.exp(v) / total for v in zs]
    return s[i] * ((1 if i == j else 0) - s[j])


def _compare_sympy(value, expected, case) -> str | None:
    """Accept values close to the closed form; name a sign error or a constant factor."""
    if type(value) is not np.ndarray or value.shape != np.shape(expected):
        return "return a single SymPy expression (not a list or Matrix)"
    value = value.astype(np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if not np.all(np.isfinite(value)):
        return "your expression is not finite at a test point"
    if np.allclose(value, expected, rtol=1e-7, atol=1e-9):
        return None
    if np.allclose(value, -expected, rtol=1e-7, atol=1e-9):
        return "it is the negative of the derivative: a sign error"
    nonzero = np.abs(expected) > 1e-6
    if np.any(nonzero):
        ratio = value[nonzero] / expected[nonzero]
        if np.allclose(ratio, ratio[0], rtol=1e-7) and abs(ratio[0]) > 1e-12:
            # fixed wording: the ratio is a number computed from the hidden test points
            return "it is a constant multiple of the derivative: a constant factor is off"
    return "wrong value at some test points"


_Z_POINTS = [{"z": v} for v in (-6.0, -1.5, 0.0, 0.7, 3.0, 12.0)]
_ZY_POINTS = [{"z": zv, "y": yv} for zv in (-4.0, -0.5, 0.0, 1.25, 5.0) for yv in (0.0, 1.0, 0.3)]
_SOFTMAX_POINTS = [
    {"z0": 0.0, "z1": 0.0, "z2": 0.0},
    {"z0": 1.0, "z1": -2.0, "z2": 0.5},
    {"z0": -0.3, "z1": 2.5, "z2": 1.0},
]


def _sympy_test(grade_id, function, points, reference, cases) -> Test:
    return Test(
        grade_id=grade_id,
        function=function,
        points=points,
        cases=cases,
        protocol="sympy",
        reference=reference,
        compare=_compare_sympy,
        messages={**MESSAGES, "value": MESSAGES["sympy"]},
    )


BATTERY = Battery(
    assignment=ASSIGNMENT,
    tests=[
        Test(
            "test_softmax_cross_entropy_grad",
            "softmax_cross_entropy_grad",
            3,
            _softmax_grad_cases(),
            messages=MESSAGES,
        ),
        Test(
            "test_softmax_cross_entropy_grad_precision",
            "softmax_cross_entropy_grad",
            1,
            _softmax_precision_cases(),
            messages=MESSAGES,
        ),
        Test(
            "test_sigmoid_cross_entropy_grad",
            "sigmoid_cross_entropy_grad",
            3,
            _sigmoid_grad_cases(),
            messages=MESSAGES,
        ),
        Test(
            "test_sigmoid_cross_entropy_grad_precision",
            "sigmoid_cross_entropy_grad",
            1,
            _sigmoid_precision_cases(),
            messages=MESSAGES,
        ),
        Test(
            "test_numerical_gradient",
            "numerical_gradient",
            3,
            _numerical_gradient_cases(),
            messages=MESSAGES,
            diagnose=_diagnose_numerical,
        ),
        _sympy_test(
            "test_sigmoid_derivative_expr",
            "sigmoid_derivative_expr",
            1,
            _ref_sigmoid_derivative,
            [Case(evaluate_at=_Z_POINTS)],
        ),
        _sympy_test(
            "test_bce_logit_grad_expr",
            "bce_logit_grad_expr",
            2,
            _ref_bce_logit_grad,
            [Case(evaluate_at=_ZY_POINTS)],
        ),
        _sympy_test(
            "test_mse_sigmoid_grad_expr",
            "mse_sigmoid_grad_expr",
            1,
            _ref_mse_sigmoid_grad,
            [Case(evaluate_at=_ZY_POINTS)],
        ),
        _sympy_test(
            "test_softmax_jacobian_entry",
            "softmax_jacobian_entry",
            2,
            _ref_softmax_jacobian_entry,
            [
                Case((i, j), evaluate_at=_SOFTMAX_POINTS)
                for i, j in [(0, 0), (1, 1), (0, 1), (2, 0), (1, 2)]
            ],
        ),
    ],
)
