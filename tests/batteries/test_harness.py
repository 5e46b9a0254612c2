"""The self-contained harness that calls student code (autograder.batteries.harness)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import sympy

from autograder.batteries import harness
from autograder.batteries.harness import FunctionRef, Raised, Returned, run_case

CALL = {"protocol": "call"}
SYMPY = {"protocol": "sympy"}


def test_harness_imports_only_stdlib_numpy_and_sympy():
    """Can the grader copy harness.py alone into a sandbox (no import of the reference)?"""
    tree = ast.parse(Path(harness.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "copy", "warnings", "dataclasses", "typing", "numpy", "sympy"}


def test_call_protocol_returns_the_raw_value():
    """Does the "call" protocol pass args and kwargs and return the value untouched?"""
    sentinel = object()
    outcome = run_case(lambda x, *, k: (x, k, sentinel), CALL, {"args": (1,), "kwargs": {"k": 2}})
    assert outcome == Returned((1, 2, sentinel))


def test_exceptions_become_raised_outcomes():
    """Does an exception (even one whose __str__ fails) become Raised with its type name?"""

    class Weird(Exception):
        def __str__(self):
            raise RuntimeError("no")

    def boom():
        raise Weird()

    assert run_case(boom, CALL, {}) == Raised("Weird", "")
    assert run_case(lambda: 1 / 0, CALL, {}).type_name == "ZeroDivisionError"


def test_student_cannot_modify_the_battery_inputs():
    """Is the case's array copied, so a student writing into its input changes nothing?"""
    x = np.array([1.0, 2.0])

    def vandal(z):
        z[:] = 0.0
        return z

    run_case(vandal, CALL, {"args": (x,)})
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_numpy_warnings_are_silenced(capfd):
    """Does overflow in student code print nothing (stderr would make nbgrader score 0)?"""
    outcome = run_case(lambda z: np.exp(z), CALL, {"args": (np.array([1000.0]),)})
    assert np.isinf(outcome.value[0])
    assert capfd.readouterr().err == ""


def test_function_refs_are_resolved_to_harness_functions():
    """Does a FunctionRef argument arrive as the harness's own function of that name?"""
    outcome = run_case(
        lambda f, x: f(x), CALL, {"args": (FunctionRef("sum_of_squares"), [1.0, 2.0])}
    )
    assert outcome.value == 5.0
    x = np.array([0.3, -1.2, 2.0])
    assert harness.FUNCTIONS["logsumexp"](x) == pytest.approx(np.log(np.sum(np.exp(x))))
    assert harness.FUNCTIONS["rosenbrock"](np.array([1.0, 1.0, 1.0])) == 0.0


def test_sympy_protocol_evaluates_by_symbol_name():
    """Is a SymPy answer evaluated at the grader's points, matching symbols by name?"""
    z = sympy.Symbol("z")
    student = lambda: sympy.exp(-z) / (1 + sympy.exp(-z)) ** 2  # noqa: E731
    one = run_case(student, SYMPY, {"evaluate_at": {"z": 0.0}})
    assert one.value.shape == () and one.value == pytest.approx(0.25)
    many = run_case(student, SYMPY, {"evaluate_at": [{"z": 0.0}, {"z": 2.0}]})
    s = 1 / (1 + np.exp(-2.0))
    np.testing.assert_allclose(many.value, [0.25, s * (1 - s)], rtol=1e-15)


def test_sympy_protocol_handles_matrices():
    """Does a SymPy Matrix come back as a float64 array of its shape?"""
    a, b = sympy.symbols("a b")
    outcome = run_case(
        lambda: sympy.Matrix([[a, b], [a * b, 1]]), SYMPY, {"evaluate_at": {"a": 2, "b": 3}}
    )
    np.testing.assert_array_equal(outcome.value, [[2.0, 3.0], [6.0, 1.0]])
    assert outcome.value.dtype == np.float64


def test_sympy_protocol_refuses_unknown_symbols_and_non_sympy_values():
    """Are a free symbol without a value and a non-SymPy return reported as Raised?"""
    x = sympy.Symbol("x")
    assert run_case(lambda: x + 1, SYMPY, {"evaluate_at": {"z": 0.0}}).type_name == "ValueError"
    assert run_case(lambda: "z**2", SYMPY, {"evaluate_at": {"z": 0.0}}).type_name == "TypeError"
    assert (
        run_case(lambda: sympy.sqrt(x), SYMPY, {"evaluate_at": {"x": -1.0}}).type_name
        == "ValueError"
    )


def test_unknown_protocol_is_a_battery_error():
    """Is an unknown protocol an error of the battery, not an outcome blamed on the student?"""
    with pytest.raises(ValueError, match="protocol"):
        run_case(lambda: 1, {"protocol": "telepathy"}, {})
