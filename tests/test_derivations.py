"""Tests for ``autograder.derivations``: every SymPy derivation, three ways.

1. Symbolically: the derived expression minus a formula typed in by hand here simplifies
   to 0.
2. Against the reference's hand-written gradient (``sigmoid_grad``,
   ``softmax_cross_entropy_grad(..., reduction="sum")``, ``huber_loss_grad`` ...): the
   derivation is evaluated in mpmath at 50 digits, so a disagreement is the reference's
   rounding or a wrong formula, never the oracle's cancellation.
3. Against central differences of the reference loss itself.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

from autograder import activations, classification, information, regression
from autograder import derivations as D
from autograder.derivations import beta, d, delta, p, q, sigma, y, z

# Gradients are O(1): relative agreement to 1e-12, and 1e-15 absolute where they vanish.
RTOL, ATOL = 1e-12, 1e-15
# Central differences with step h carry an error of about h² + 1e-16/h.
H_STEP, FD_RTOL, FD_ATOL = 1e-5, 1e-6, 1e-8


@pytest.fixture
def rng():
    """A fresh seeded generator per test, so a test's data do not depend on test order."""
    return np.random.default_rng(20261121)


def is_zero(expr) -> bool:
    """Does ``expr`` (a SymPy expression or matrix) simplify to exactly 0?"""
    if isinstance(expr, sp.MatrixBase):
        return all(sp.simplify(entry) == 0 for entry in expr)
    return sp.simplify(expr) == 0


def mp_eval(expr, symbols, points, dps=50):
    """Evaluate ``expr`` at each point in mpmath and round to float64 (one row per point).

    The sigmoid is rewritten as exponentials first, so the oracle shares no code with
    the NumPy implementation of :class:`sigma`.
    """
    f = sp.lambdify(symbols, sp.sympify(expr).rewrite(sp.exp), modules="mpmath")
    rows = []
    with mpmath.workdps(dps):
        for point in points:
            value = f(*[mpmath.mpf(float(v)) for v in np.atleast_1d(point)])
            if isinstance(value, mpmath.matrix):
                value = [value[i, j] for i in range(value.rows) for j in range(value.cols)]
                rows.append(np.array([float(v) for v in value]))
            else:
                rows.append(float(value))
    return np.array(rows)


def central_difference(f, x, h=H_STEP):
    """∂f/∂x_i for every entry of ``x`` by (f(x + h e_i) − f(x − h e_i)) / 2h."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.empty_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = h
        grad[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def elementwise_difference(f, x, h=H_STEP):
    """Derivative of an elementwise ``f`` at every entry at once (all entries shifted)."""
    return (f(x + h) - f(x - h)) / (2 * h)


def on_simplex(expr, name, n):
    """``expr`` with the last component eliminated by name_1 + ... + name_n = 1.

    With one class the softmax is the constant 1, so its derivatives vanish; only on the
    simplex does diag(s) − s sᵀ (or p − y) reduce to that 0.
    """
    vec = D.vector_symbols(name, n)
    return expr.subs(vec[-1], 1 - sum(vec[:-1]))


def softmax_in_z(n):
    """Return the logits z_1..z_n and the softmax e^{z_i} / Σ_k e^{z_k}, typed in by hand."""
    zs = D.vector_symbols("z", n)
    partition = sum(sp.exp(zk) for zk in zs)
    return zs, [sp.exp(zi) / partition for zi in zs]


# ---------------------------------------------------------------------------------------
# Information theory
# ---------------------------------------------------------------------------------------


def test_self_information_derivative_symbolic():
    """Is d(−log p)/dp equal to −1/p?"""
    assert is_zero(D.self_information_derivative() - (-1 / p))


def test_self_information_derivative_matches_central_differences():
    """Does −1/p match central differences of autograder.self_information?"""
    grid = np.linspace(0.05, 0.95, 37)
    derived = sp.lambdify(p, D.self_information_derivative())(grid)
    fd = elementwise_difference(information.self_information, grid, h=1e-7)
    np.testing.assert_allclose(derived, fd, rtol=FD_RTOL)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_entropy_maximiser_is_uniform(n):
    """Does the Lagrange multiplier give p_i = 1/n, H = log n and λ = log n − 1?"""
    result = D.entropy_maximiser(n)
    assert result["p"] == [sp.Rational(1, n)] * n
    assert is_zero(result["H"] - sp.log(n))
    assert is_zero(result["multiplier"] - (sp.log(n) - 1))
    assert result["hessian"] == -n * sp.eye(n)


def test_entropy_maximiser_lagrangian_is_stationary_at_the_solution():
    """Do all partial derivatives of the returned Lagrangian vanish at the solution?"""
    result = D.entropy_maximiser(3)
    ps = D.vector_symbols("p", 3)
    lam = sp.Symbol("lambda", real=True)
    at = {**dict(zip(ps, result["p"], strict=True)), lam: result["multiplier"]}
    for v in (*ps, lam):
        assert is_zero(sp.diff(result["lagrangian"], v).subs(at))


def test_entropy_maximiser_beats_random_distributions(rng):
    """Is the entropy of 2000 random 5-outcome distributions at most the derived maximum?"""
    h_max = float(D.entropy_maximiser(5)["H"])
    samples = rng.dirichlet(np.ones(5), size=2000)
    assert np.all(information.entropy(samples) <= h_max + 1e-15)
    assert h_max == pytest.approx(float(information.entropy(np.full(5, 0.2))), rel=1e-15)


def test_entropy_maximiser_result_cannot_be_corrupted_through_the_cache():
    """Does mutating a returned result leave the next call intact?"""
    first = D.entropy_maximiser(2)
    first["p"].append(sp.S.One)
    first["hessian"][0, 0] = 99
    second = D.entropy_maximiser(2)
    assert second["p"] == [sp.S.Half, sp.S.Half]
    assert second["hessian"][0, 0] == -2


def test_binary_entropy_derivative_symbolic():
    """Is dH_b/dp equal to log(1 − p) − log p, zero only at p = 1/2?"""
    derived = D.binary_entropy_derivative()
    assert is_zero(derived - (sp.log(1 - p) - sp.log(p)))
    assert sp.solve(derived, p) == [sp.S.Half]


def test_binary_entropy_derivative_matches_central_differences():
    """Does log((1 − p)/p) match central differences of autograder.binary_entropy?"""
    grid = np.linspace(0.01, 0.99, 50)
    derived = sp.lambdify(p, D.binary_entropy_derivative())(grid)
    fd = elementwise_difference(information.binary_entropy, grid, h=1e-7)
    np.testing.assert_allclose(derived, fd, rtol=FD_RTOL, atol=FD_ATOL)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_grad_q_symbolic(n):
    """Are ∂H(p,q)/∂q_i and ∂KL(p‖q)/∂q_i both −p_i/q_i?"""
    ps, qs = D.vector_symbols("p", n), D.vector_symbols("q", n)
    hand = sp.Matrix([-pi / qi for pi, qi in zip(ps, qs, strict=True)])
    assert is_zero(D.cross_entropy_grad_q(n) - hand)
    assert is_zero(D.kl_divergence_grad_q(n) - hand)


@pytest.mark.parametrize(
    ("derivation", "reference"),
    [
        (D.cross_entropy_grad_q, information.cross_entropy),
        (D.kl_divergence_grad_q, information.kl_divergence),
    ],
)
def test_grad_q_matches_central_differences(derivation, reference, rng):
    """Does −p/q match central differences of the reference in q, p fixed?"""
    n = 4
    ps, qs = D.vector_symbols("p", n), D.vector_symbols("q", n)
    f = sp.lambdify([*ps, *qs], derivation(n))
    for _ in range(10):
        pv, qv = rng.dirichlet(np.ones(n)), 0.05 + 0.9 * rng.dirichlet(np.ones(n))
        derived = np.asarray(f(*pv, *qv), dtype=np.float64).ravel()
        fd = central_difference(lambda qq, pv=pv: reference(pv, qq), qv)
        np.testing.assert_allclose(derived, fd, rtol=FD_RTOL, atol=FD_ATOL)


# ---------------------------------------------------------------------------------------
# Sigmoid and softmax
# ---------------------------------------------------------------------------------------


def test_sigmoid_derivative_symbolic():
    """Is σ′ both σ(1 − σ) and e^{−z}/(1 + e^{−z})², the textbook forms?"""
    derived = D.sigmoid_derivative()
    assert is_zero(derived - sigma(z) * (1 - sigma(z)))
    assert is_zero(derived.rewrite(sp.exp) - sp.exp(-z) / (1 + sp.exp(-z)) ** 2)
    assert derived.subs(z, 0) == sp.Rational(1, 4)


def test_sigmoid_derivative_saturates_beyond_4_6():
    """Does σ′ fall to 0.01 at |z| ≈ 4.585, the saturation point the book quotes as 4.6?"""
    root = sp.nsolve(D.sigmoid_derivative().rewrite(sp.exp) - sp.Rational(1, 100), z, 4)
    # By hand: σ(1 − σ) = 0.01 gives σ = (1 + √0.96)/2, and z = log(σ/(1 − σ)).
    by_hand = np.log((1 + np.sqrt(0.96)) / (1 - np.sqrt(0.96)))
    assert float(root) == pytest.approx(by_hand, rel=1e-12)
    assert 4.58 < by_hand < 4.59


def test_sigmoid_derivative_matches_reference_sigmoid_grad():
    """Does the derived σ′ equal autograder.sigmoid_grad on logits from −40 to 40?"""
    grid = np.concatenate([np.linspace(-40, 40, 161), [-1e-8, 0.0, 1e-8]])
    exact = mp_eval(D.sigmoid_derivative(), [z], grid)
    np.testing.assert_allclose(activations.sigmoid_grad(grid), exact, rtol=RTOL, atol=0)


def test_sigmoid_derivative_matches_central_differences():
    """Does σ(1 − σ) match central differences of autograder.sigmoid?"""
    grid = np.linspace(-12, 12, 97)
    derived = sp.lambdify(z, D.sigmoid_derivative())(grid)
    np.testing.assert_allclose(
        derived, elementwise_difference(activations.sigmoid, grid), rtol=FD_RTOL, atol=FD_ATOL
    )


def test_sigma_lambdifies_without_overflow():
    """Does the lambdified σ survive logits of ±1000 and keep relative accuracy?"""
    f = sp.lambdify(z, sigma(z))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        values = f(np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0]))
    exact = mp_eval(sigma(z), [z], [-1000.0, -40.0, 0.0, 40.0, 1000.0])
    np.testing.assert_allclose(values, exact, rtol=1e-15, atol=0)
    assert float(sigma(z).subs(z, 2).evalf()) == pytest.approx(1 / (1 + np.exp(-2.0)))


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_softmax_jacobian_symbolic(n):
    """Is the derived Jacobian exactly diag(s) − s sᵀ?"""
    s = sp.Matrix(D.vector_symbols("s", n))
    difference = D.softmax_jacobian(n) - (sp.diag(*s) - s * s.T)
    assert is_zero(on_simplex(difference, "s", n))
    if n > 1:  # with two classes or more it holds without using Σ s = 1
        assert is_zero(difference)


def test_softmax_jacobian_in_logits_matches_sympy_jacobian():
    """With s = softmax(z) substituted, is it SymPy's own Jacobian of the softmax in z?"""
    n = 3
    zs, soft = softmax_in_z(n)
    derived = D.softmax_jacobian(n).subs(dict(zip(D.vector_symbols("s", n), soft, strict=True)))
    assert is_zero(derived - sp.Matrix(soft).jacobian(zs))


def test_softmax_jacobian_matches_reference_and_central_differences(rng):
    """Does diag(s) − s sᵀ equal autograder.softmax_jacobian and differences of softmax?"""
    n = 4
    zs, soft = softmax_in_z(n)
    in_z = D.softmax_jacobian(n).subs(dict(zip(D.vector_symbols("s", n), soft, strict=True)))
    logits = np.vstack([rng.normal(scale=3.0, size=(6, n)), [[30.0, 0.0, -30.0, 1.0]]])
    exact = mp_eval(in_z, zs, logits).reshape(-1, n, n)
    reference = activations.softmax_jacobian(logits)
    np.testing.assert_allclose(reference, exact, rtol=1e-11, atol=ATOL)
    for row, jac in zip(logits, exact, strict=True):
        fd = np.stack(
            [central_difference(lambda v, i=i: activations.softmax(v)[i], row) for i in range(n)]
        )
        np.testing.assert_allclose(jac, fd, rtol=FD_RTOL, atol=FD_ATOL)


@pytest.mark.parametrize("n", [1, 2, 4])
def test_logsumexp_grad_is_the_softmax(n):
    """Is ∇ log Σ e^{z_k} the softmax s, and its Jacobian the softmax Jacobian?"""
    s = D.vector_symbols("s", n)
    difference = D.logsumexp_grad(n) - sp.Matrix(s)
    assert is_zero(on_simplex(difference, "s", n))
    if n > 1:  # with one class LSE(z) = z and the gradient is the constant 1
        assert is_zero(difference)
    zs, soft = softmax_in_z(n)
    gradient = D.logsumexp_grad(n).subs(dict(zip(s, soft, strict=True)))
    hessian = sp.hessian(sp.log(sum(sp.exp(zk) for zk in zs)), zs)
    jacobian = D.softmax_jacobian(n).subs(dict(zip(s, soft, strict=True)))
    assert is_zero(gradient - sp.Matrix(soft))
    assert is_zero(hessian - jacobian)


def test_logsumexp_grad_matches_reference_softmax_and_differences(rng):
    """Does the derived gradient equal autograder.softmax and differences of logsumexp?"""
    n = 4
    zs, soft = softmax_in_z(n)
    s = D.vector_symbols("s", n)
    in_z = D.logsumexp_grad(n).subs(dict(zip(s, soft, strict=True)))
    logits = np.vstack([rng.normal(scale=3.0, size=(5, n)), [[40.0, 0.0, -40.0, 2.0]]])
    exact = mp_eval(in_z, zs, logits)
    np.testing.assert_allclose(activations.softmax(logits), exact, rtol=RTOL, atol=0)
    for row, grad in zip(logits, exact, strict=True):
        fd = central_difference(activations.logsumexp, row)
        np.testing.assert_allclose(grad, fd, rtol=FD_RTOL, atol=FD_ATOL)


# ---------------------------------------------------------------------------------------
# Classification losses
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_softmax_cross_entropy_grad_symbolic(n):
    """Is ∂CE/∂z exactly p − y?"""
    ps, ys = sp.Matrix(D.vector_symbols("p", n)), sp.Matrix(D.vector_symbols("y", n))
    difference = D.softmax_cross_entropy_grad(n) - (ps - ys)
    assert is_zero(on_simplex(on_simplex(difference, "p", n), "y", n))
    if n > 1:
        assert is_zero(difference)


def _softmax_cross_entropy_grad_in_logits(n):
    """The derived p − y with p = softmax(z) substituted, in the symbols (z..., y...)."""
    zs, soft = softmax_in_z(n)
    ps, ys = D.vector_symbols("p", n), D.vector_symbols("y", n)
    return D.softmax_cross_entropy_grad(n).subs(dict(zip(ps, soft, strict=True))), [*zs, *ys]


@pytest.mark.parametrize("soft_targets", [False, True])
def test_softmax_cross_entropy_grad_matches_reference(soft_targets, rng):
    """Does p − y equal softmax_cross_entropy_grad(reduction="sum"), logits of ±1000 included?"""
    n, rows = 4, 9
    logits = rng.normal(scale=4.0, size=(rows, n))
    logits[0] = [25.0, 0.0, -25.0, 3.0]  # one dominant class
    logits[1] = [1000.0, 0.0, -1000.0, 5.0]  # e^{-1000} underflows: only a stable grad survives
    if soft_targets:
        target = rng.dirichlet(np.ones(n), size=rows)
        target_probs = target
    else:
        target = rng.integers(0, n, size=rows)
        target[1] = 2  # the most wrong class: the gradient is (1, ~0, −1, ~0)
        target_probs = np.eye(n)[target]
    in_z, symbols = _softmax_cross_entropy_grad_in_logits(n)
    exact = mp_eval(in_z, symbols, np.hstack([logits, target_probs])).reshape(rows, n)
    reference = classification.softmax_cross_entropy_grad(logits, target, reduction="sum")
    np.testing.assert_allclose(reference, exact, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("soft_targets", [False, True])
def test_softmax_cross_entropy_grad_matches_central_differences(soft_targets, rng):
    """Does p − y match central differences of softmax_cross_entropy(reduction="sum")?"""
    n, rows = 3, 5
    logits = rng.normal(scale=4.0, size=(rows, n))
    if soft_targets:
        target = rng.dirichlet(np.ones(n), size=rows)
        target_probs = target
    else:
        target = rng.integers(0, n, size=rows)
        target_probs = np.eye(n)[target]
    in_z, symbols = _softmax_cross_entropy_grad_in_logits(n)
    derived = np.asarray(
        [np.ravel(sp.lambdify(symbols, in_z)(*row)) for row in np.hstack([logits, target_probs])]
    )
    fd = central_difference(
        lambda x: classification.softmax_cross_entropy(x, target, reduction="sum"), logits, h=1e-6
    )
    np.testing.assert_allclose(derived, fd, rtol=FD_RTOL, atol=FD_ATOL)


def test_binary_cross_entropy_grad_symbolic():
    """Is ∂BCE/∂q equal to (q − y)/(q(1 − q)), and times σ′ the logits gradient σ − y?"""
    derived = D.binary_cross_entropy_grad()
    assert is_zero(derived - (q - y) / (q * (1 - q)))
    chain = derived.subs(q, sigma(z)) * D.sigmoid_derivative()
    assert is_zero(chain - D.sigmoid_cross_entropy_grad())
    assert D.to_latex(derived) == r"\frac{q - y}{q \left(1 - q\right)}"


def test_binary_cross_entropy_grad_matches_reference_and_differences(rng):
    """Does (q − y)/(q(1 − q)) equal binary_cross_entropy_grad(reduction="sum") and differences?"""
    probs = np.linspace(0.02, 0.98, 49)
    for target in (np.zeros_like(probs), np.ones_like(probs), rng.uniform(size=probs.size)):
        exact = mp_eval(D.binary_cross_entropy_grad(), [q, y], np.column_stack([probs, target]))
        reference = classification.binary_cross_entropy_grad(probs, target, reduction="sum")
        np.testing.assert_allclose(reference, exact, rtol=1e-13, atol=ATOL)
        fd = elementwise_difference(
            lambda x, target=target: classification.binary_cross_entropy(
                x, target, reduction="none"
            ),
            probs,
            h=1e-7,
        )
        np.testing.assert_allclose(exact, fd, rtol=FD_RTOL, atol=FD_ATOL)


def test_bernoulli_negative_log_likelihood_symbolic():
    """Is −log(q^y (1 − q)^(1−y)) the BCE formula, with derivatives (q − y)/(q(1 − q)), σ − y?"""
    result = D.bernoulli_negative_log_likelihood()
    assert set(result) == {"likelihood", "nll", "grad_q", "grad_z"}
    # only module symbols: the positive stand-in for 1 − q must not leak out
    assert {key: expr.free_symbols for key, expr in result.items()} == {
        "likelihood": {q, y},
        "nll": {q, y},
        "grad_q": {q, y},
        "grad_z": {z, y},
    }
    assert is_zero(result["likelihood"] - q**y * (1 - q) ** (1 - y))
    assert is_zero(result["nll"] - (-y * sp.log(q) - (1 - y) * sp.log(1 - q)))
    assert is_zero(result["grad_q"] - (q - y) / (q * (1 - q)))
    assert is_zero(result["grad_z"] - (sigma(z) - y))
    # The likelihood picks q for a positive label and 1 − q for a negative one.
    assert result["likelihood"].subs(y, 1) == q
    assert result["likelihood"].subs(y, 0) == 1 - q
    assert result["nll"].subs(y, 1) == -sp.log(q)
    # The same formulas as the dedicated derivations, in the same printed form.
    assert D.to_latex(result["grad_q"]) == D.to_latex(D.binary_cross_entropy_grad())
    assert D.to_latex(result["grad_z"]) == r"\sigma{\left(z \right)} - y"


def test_bernoulli_negative_log_likelihood_chain_rule_in_the_exponential_form():
    """Is grad_z the derivative of the NLL at q = 1/(1 + e^{−z}), and grad_q·σ′ at q = σ(z)?"""
    result = D.bernoulli_negative_log_likelihood()
    in_z = result["nll"].subs(q, 1 / (1 + sp.exp(-z)))
    assert is_zero(result["grad_z"].rewrite(sp.exp) - sp.diff(in_z, z))
    chain = result["grad_q"].subs(q, sigma(z)) * D.sigmoid_derivative()
    assert is_zero(chain - result["grad_z"])


def test_bernoulli_negative_log_likelihood_matches_reference_bce(rng):
    """Do the NLL and its q-derivative equal binary_cross_entropy(_grad) with reduction="sum"?"""
    result = D.bernoulli_negative_log_likelihood()
    probs = np.linspace(0.01, 0.99, 50)
    for target in (np.zeros_like(probs), np.ones_like(probs), rng.uniform(size=probs.size)):
        points = np.column_stack([probs, target])
        exact_loss = mp_eval(result["nll"], [q, y], points)
        exact_grad = mp_eval(result["grad_q"], [q, y], points)
        loss = [
            classification.binary_cross_entropy(qv, yv, reduction="sum")
            for qv, yv in zip(probs, target, strict=True)
        ]
        np.testing.assert_allclose(loss, exact_loss, rtol=1e-13, atol=ATOL)
        reference = classification.binary_cross_entropy_grad(probs, target, reduction="sum")
        np.testing.assert_allclose(reference, exact_grad, rtol=1e-13, atol=ATOL)
        # lambdified in NumPy, as the book evaluates it
        numpy_grad = sp.lambdify([q, y], result["grad_q"], "numpy")(probs, target)
        np.testing.assert_allclose(numpy_grad, reference, rtol=1e-12, atol=ATOL)
        total = sp.lambdify([q, y], result["nll"], "numpy")(probs, target).sum()
        assert total == pytest.approx(
            classification.binary_cross_entropy(probs, target, reduction="sum"), rel=1e-13
        )


def test_bernoulli_negative_log_likelihood_matches_reference_logit_grad(rng):
    """Does the z-derivative equal sigmoid_cross_entropy_grad(reduction="sum") on a grid?"""
    grad_z = D.bernoulli_negative_log_likelihood()["grad_z"]
    logits = np.concatenate([np.linspace(-30, 30, 61), [-800.0, 800.0]])
    for target in (np.zeros_like(logits), np.ones_like(logits), rng.uniform(size=logits.size)):
        exact = mp_eval(grad_z, [z, y], np.column_stack([logits, target]))
        reference = classification.sigmoid_cross_entropy_grad(logits, target, reduction="sum")
        np.testing.assert_allclose(reference, exact, rtol=RTOL, atol=ATOL)
        with np.errstate(over="raise", invalid="raise"):
            numpy_grad = sp.lambdify([z, y], grad_z, "numpy")(logits, target)
        np.testing.assert_allclose(numpy_grad, reference, rtol=RTOL, atol=ATOL)


def test_bernoulli_negative_log_likelihood_matches_central_differences(rng):
    """Do grad_q and grad_z match central differences of the reference losses?"""
    result = D.bernoulli_negative_log_likelihood()
    probs = np.linspace(0.02, 0.98, 49)
    logits = np.linspace(-12, 12, 49)
    target = rng.uniform(size=probs.size)
    grad_q = sp.lambdify([q, y], result["grad_q"])(probs, target)
    fd_q = elementwise_difference(
        lambda x: classification.binary_cross_entropy(x, target, reduction="none"), probs, h=1e-7
    )
    np.testing.assert_allclose(grad_q, fd_q, rtol=FD_RTOL, atol=FD_ATOL)
    grad_z = sp.lambdify([z, y], result["grad_z"])(logits, target)
    fd_z = elementwise_difference(
        lambda x: classification.sigmoid_cross_entropy(x, target, reduction="none"), logits
    )
    np.testing.assert_allclose(grad_z, fd_z, rtol=FD_RTOL, atol=FD_ATOL)


def test_bernoulli_negative_log_likelihood_result_is_a_fresh_dict():
    """Does editing a returned dict leave the next call's result intact?"""
    first = D.bernoulli_negative_log_likelihood()
    first["nll"] = sp.S.Zero
    assert D.bernoulli_negative_log_likelihood()["nll"] != 0


BCE_BY_HAND = -(y * sp.log(q) + (1 - y) * sp.log(1 - q))


def test_binary_cross_entropy_from_gradient_is_bce_plus_a_constant():
    """Does dsolve's cost minus the BCE formula leave only the constant C1, free of q?"""
    solution = D.binary_cross_entropy_from_gradient()
    c1 = sp.Symbol("C1")
    assert solution.free_symbols == {q, y, c1}
    difference = sp.simplify(solution - BCE_BY_HAND)
    assert q not in difference.free_symbols
    assert difference == c1
    # no complex logarithm left: real for a probability and a target in (0, 1)
    at = {q: sp.Rational(1, 3), y: sp.Rational(1, 4), c1: 0}
    assert solution.subs(at).is_real


def test_binary_cross_entropy_from_gradient_has_the_demanded_gradient():
    """Is dC/dq = (q − y)/(q(1 − q)), so that dC/dz = σ(z) − y on a sigmoid output?"""
    solution = D.binary_cross_entropy_from_gradient()
    assert is_zero(sp.diff(solution, q) - (q - y) / (q * (1 - q)))
    assert is_zero(sp.diff(solution, q) - D.binary_cross_entropy_grad())
    on_sigmoid = solution.subs(q, 1 / (1 + sp.exp(-z)))
    assert is_zero(sp.diff(on_sigmoid, z) - (1 / (1 + sp.exp(-z)) - y))


def test_binary_cross_entropy_from_gradient_matches_reference_bce(rng):
    """With C1 = 0, does the solution equal binary_cross_entropy, and C1 shift it evenly?"""
    solution = D.binary_cross_entropy_from_gradient()
    c1 = sp.Symbol("C1")
    probs = np.linspace(0.01, 0.99, 50)
    for target in (np.zeros_like(probs), np.ones_like(probs), rng.uniform(size=probs.size)):
        values = sp.lambdify([q, y, c1], solution, "numpy")(probs, target, 0.0)
        reference = classification.binary_cross_entropy(probs, target, reduction="none")
        np.testing.assert_allclose(values, reference, rtol=1e-13, atol=ATOL)
        shifted = sp.lambdify([q, y, c1], solution, "numpy")(probs, target, 2.5)
        np.testing.assert_allclose(shifted - values, 2.5, rtol=1e-13)
        # central differences of the numerical solution give the demanded gradient
        fd = elementwise_difference(
            lambda x, target=target: sp.lambdify([q, y, c1], solution, "numpy")(x, target, 0.0),
            probs,
            h=1e-7,
        )
        np.testing.assert_allclose(fd, (probs - target) / (probs * (1 - probs)), rtol=FD_RTOL)


def test_sigmoid_cross_entropy_grad_symbolic():
    """Is ∂BCE/∂z equal to σ(z) − y, and to the derivative of the exponential form?"""
    derived = D.sigmoid_cross_entropy_grad()
    assert is_zero(derived - (sigma(z) - y))
    bce = -(y * sp.log(1 / (1 + sp.exp(-z))) + (1 - y) * sp.log(1 - 1 / (1 + sp.exp(-z))))
    assert is_zero(derived.rewrite(sp.exp) - sp.diff(bce, z))
    assert derived.subs(z, 0) == sp.S.Half - y


def test_sigmoid_cross_entropy_grad_matches_reference(rng):
    """Does σ(z) − y equal sigmoid_cross_entropy_grad(reduction="sum") and differences?"""
    logits = np.concatenate([np.linspace(-30, 30, 61), [0.0, 1e-8]])
    extreme = np.array([-1e4, -800.0, 800.0, 1e4])  # compared with the reference only
    for target in (np.zeros_like(logits), np.ones_like(logits), rng.uniform(size=logits.size)):
        both = np.concatenate([logits, extreme])
        both_target = np.concatenate([target, [0.0, 1.0, 0.0, 1.0]])
        exact = mp_eval(
            D.sigmoid_cross_entropy_grad(), [z, y], np.column_stack([both, both_target])
        )
        reference = classification.sigmoid_cross_entropy_grad(both, both_target, reduction="sum")
        np.testing.assert_allclose(reference, exact, rtol=RTOL, atol=ATOL)
        fd = elementwise_difference(
            lambda x, target=target: classification.sigmoid_cross_entropy(
                x, target, reduction="none"
            ),
            logits,
        )
        np.testing.assert_allclose(exact[: logits.size], fd, rtol=FD_RTOL, atol=FD_ATOL)


def test_mse_sigmoid_grad_has_the_slowdown_factor():
    """Is the MSE-on-sigmoid gradient the cross-entropy gradient times σ′(z)?"""
    derived = D.mse_sigmoid_grad()
    assert is_zero(derived - (sigma(z) - y) * sigma(z) * (1 - sigma(z)))
    assert is_zero(derived / D.sigmoid_cross_entropy_grad() - D.sigmoid_derivative())


def test_mse_sigmoid_grad_matches_reference_pieces(rng):
    """Does it equal (sigmoid − y)·sigmoid_grad and differences of ½·mse_loss(sigmoid)?"""
    logits = np.linspace(-10, 10, 41)
    target = rng.uniform(size=logits.size)
    derived = sp.lambdify([z, y], D.mse_sigmoid_grad())(logits, target)
    np.testing.assert_allclose(
        derived,
        (activations.sigmoid(logits) - target) * activations.sigmoid_grad(logits),
        rtol=1e-10,
        atol=ATOL,
    )
    fd = elementwise_difference(
        lambda x: 0.5 * regression.mse_loss(activations.sigmoid(x), target, reduction="none"),
        logits,
    )
    np.testing.assert_allclose(derived, fd, rtol=FD_RTOL, atol=FD_ATOL)


def test_mse_sigmoid_grad_is_tiny_for_a_saturated_wrong_neuron():
    """At z = 10 with y = 0, is the MSE gradient below 1e-4 while CE's is near 1?"""
    at = {z: 10, y: 0}
    assert float(D.mse_sigmoid_grad().subs(at)) < 1e-4
    assert float(D.sigmoid_cross_entropy_grad().subs(at)) > 0.9999


# ---------------------------------------------------------------------------------------
# Regression losses
# ---------------------------------------------------------------------------------------


def test_l1_and_l2_grad_symbolic():
    """Are d|d|/dd = sign(d) (0 at the kink) and d(d²)/dd = 2d?"""
    assert D.l1_grad() == sp.sign(d)
    assert D.l1_grad().subs(d, 0) == 0
    assert is_zero(D.l2_grad() - 2 * d)


def piece(expr, index):
    """The expression of branch ``index`` of a Piecewise."""
    return expr.args[index].expr


def test_smooth_l1_grad_symbolic():
    """Is the smooth-L1 derivative d/β inside |d| < β and sign(d) outside?"""
    derived = D.smooth_l1_grad()
    hand = sp.Piecewise((d / beta, sp.Abs(d) < beta), (sp.sign(d), True))
    for value in (-3, -1, sp.Rational(-1, 2), 0, sp.Rational(1, 3), 1, 2):
        at = {d: value, beta: 1}
        assert derived.subs(at) == hand.subs(at)
    assert is_zero(piece(derived, 0) - d / beta)
    assert piece(derived, 1).subs(d, 5) == 1


def test_huber_grad_symbolic():
    """Is the Huber derivative d inside |d| < δ, δ·sign(d) outside, and δ·smooth-L1′(β=δ)?"""
    derived = D.huber_grad()
    assert is_zero(piece(derived, 0) - d)
    assert is_zero(piece(derived, 1) - delta * sp.sign(d))
    scaled = delta * D.smooth_l1_grad().subs(beta, delta)
    for value in (-4, -2, -1, 0, sp.Rational(1, 2), 2, 3):
        at = {d: value, delta: 2}
        assert derived.subs(at) == scaled.subs(at)


@pytest.mark.parametrize(
    ("derivation", "threshold"), [(D.smooth_l1_grad, beta), (D.huber_grad, delta)]
)
def test_piecewise_grads_are_continuous_at_the_threshold_and_zero_at_the_kink(
    derivation, threshold
):
    """At |d| = β (or δ) do both branches agree, and is the gradient 0 at d = 0?"""
    derived = derivation()
    for edge in (threshold, -threshold):
        inside, outside = piece(derived, 0).subs(d, edge), piece(derived, 1).subs(d, edge)
        assert is_zero(inside - outside)
        assert is_zero(derived.subs(d, edge) - inside)
    assert derived.subs(d, 0) == 0


def test_smooth_l1_grad_tends_to_l1_grad_as_beta_vanishes():
    """As β → 0+, does the smooth-L1 derivative become sign(d) for d ≠ 0?"""
    derived = D.smooth_l1_grad()
    for value in (-2, sp.Rational(-1, 10**6), sp.Rational(1, 10**6), 3):
        assert sp.limit(derived.subs(d, value), beta, 0, "+") == sp.sign(value)


# (test id, derivation, reference loss name in autograder.regression, loss options)
REGRESSION_CASES = [
    ("mse", D.l2_grad, "mse_loss", {}),
    ("l1", D.l1_grad, "l1_loss", {}),
    ("smooth_l1 beta=1", D.smooth_l1_grad, "smooth_l1_loss", {"beta": 1.0}),
    ("smooth_l1 beta=0.3", D.smooth_l1_grad, "smooth_l1_loss", {"beta": 0.3}),
    ("huber delta=1", D.huber_grad, "huber_loss", {"delta": 1.0}),
    ("huber delta=2.5", D.huber_grad, "huber_loss", {"delta": 2.5}),
]
regression_cases = pytest.mark.parametrize(
    ("derivation", "loss_name", "options"),
    [case[1:] for case in REGRESSION_CASES],
    ids=[case[0] for case in REGRESSION_CASES],
)


def _bind(derivation, options):
    """The derivation with its threshold symbol replaced by the option's value."""
    symbols = {"beta": beta, "delta": delta}
    return derivation().subs({symbols[k]: v for k, v in options.items()})


@regression_cases
def test_regression_grads_match_reference_including_kinks(derivation, loss_name, options, rng):
    """Does the derivation equal the reference _grad (reduction="sum"), kinks included?"""
    grad = getattr(regression, f"{loss_name}_grad")
    threshold = next(iter(options.values()), 1.0)
    special = [0.0, threshold, -threshold, 1e-9, -1e-9, 1e154]
    residual = np.concatenate([np.linspace(-5, 5, 81), special])  # steps of 1/8: exact
    # Integer targets, and 0 under the special residuals, keep input − target exact, so
    # the kinks at d = 0 and |d| = threshold are hit exactly.
    target = rng.integers(-3, 4, size=residual.size).astype(np.float64)
    target[-len(special) :] = 0.0
    prediction = target + residual
    assert np.array_equal(prediction - target, residual)
    exact = mp_eval(_bind(derivation, options), [d], residual)
    reference = grad(prediction, target, reduction="sum", **options)
    np.testing.assert_allclose(reference, exact, rtol=RTOL, atol=ATOL)


@regression_cases
def test_regression_grads_match_central_differences(derivation, loss_name, options, rng):
    """Away from the kinks, does the derivation match differences of the reference loss?"""
    loss = getattr(regression, loss_name)
    threshold = next(iter(options.values()), 1.0)
    residual = np.linspace(-5, 5, 80)  # avoids 0
    residual = residual[np.abs(np.abs(residual) - threshold) > 1e-3]
    target = rng.normal(size=residual.size)
    derived = sp.lambdify(d, _bind(derivation, options))(residual)
    derived = np.broadcast_to(derived, residual.shape)
    fd = elementwise_difference(
        lambda x: loss(x, target, reduction="none", **options), target + residual
    )
    np.testing.assert_allclose(derived, fd, rtol=FD_RTOL, atol=FD_ATOL)


# ---------------------------------------------------------------------------------------
# Helpers, caching and printing
# ---------------------------------------------------------------------------------------


ALL_DERIVATIONS = [
    D.self_information_derivative,
    D.binary_entropy_derivative,
    D.cross_entropy_grad_q,
    D.kl_divergence_grad_q,
    D.sigmoid_derivative,
    D.softmax_jacobian,
    D.logsumexp_grad,
    D.softmax_cross_entropy_grad,
    D.binary_cross_entropy_grad,
    D.sigmoid_cross_entropy_grad,
    D.mse_sigmoid_grad,
    D.l1_grad,
    D.l2_grad,
    D.smooth_l1_grad,
    D.huber_grad,
]


@pytest.mark.parametrize("derivation", ALL_DERIVATIONS, ids=lambda f: f.__name__)
def test_results_print_with_module_symbols_only(derivation):
    """Does every result print to LaTeX without internal Dummy symbols leaking out?"""
    expr = derivation()
    allowed = {z, y, p, q, d, beta, delta}
    allowed |= {s for name in "pqsyz" for s in D.vector_symbols(name, 3)}
    assert expr.free_symbols <= allowed
    text = D.to_latex(expr)
    assert text and "Dummy" not in text and "_{Z}" not in text


def test_to_latex_prefers_a_leading_positive_term():
    """Does to_latex print σ(z) − y rather than −y + σ(z), and keep p₁ − y₁ in matrices?"""
    assert D.to_latex(D.sigmoid_cross_entropy_grad()) == r"\sigma{\left(z \right)} - y"
    assert D.to_latex(D.softmax_cross_entropy_grad(2)) == sp.latex(D.softmax_cross_entropy_grad(2))
    assert D.to_latex(D.binary_entropy_derivative()) == r"\log{\left(\frac{1 - p}{p} \right)}"


def test_vector_results_are_fresh_mutable_matrices():
    """Can a caller edit a returned Matrix without changing the next call's result?"""
    jac = D.softmax_jacobian(2)
    jac[0, 0] = 0
    assert D.softmax_jacobian(2)[0, 0] != 0


def test_vector_symbols_assumptions():
    """Are z_i, y_i real and p_i, q_i, s_i positive, identical on every call?"""
    assert all(s.is_real and s.is_positive is None for s in D.vector_symbols("z", 3))
    assert all(s.is_positive for s in D.vector_symbols("q", 3))
    assert D.vector_symbols("s", 2) == sp.symbols("s_1:3", positive=True)


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "3", None])
def test_bad_number_of_classes_raises(bad):
    """Does a number of classes that is not a positive integer raise ValueError naming n?"""
    with pytest.raises(ValueError, match="n must be a positive integer"):
        D.softmax_jacobian(bad)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        D.entropy_maximiser(bad)


def test_check_numerically_separates_right_from_wrong():
    """Is check_numerically tiny for the right gradient and large for a wrong one?"""
    points = [-2.0, 0.0, 3.0]
    right = D.check_numerically(D.sigmoid_derivative(), [z], activations.sigmoid_grad, points)
    wrong = D.check_numerically(D.sigmoid_derivative(), [z], activations.sigmoid, points)
    assert right < 1e-15
    assert wrong > 0.1


def test_check_numerically_compares_vectors_and_checks_points():
    """Does it compare a column Matrix with a 1-D array, report NaN, reject a short point?"""
    ps, ys = D.vector_symbols("p", 2), D.vector_symbols("y", 2)
    error = D.check_numerically(
        D.softmax_cross_entropy_grad(2),
        [*ps, *ys],
        lambda p1, p2, y1, y2: np.array([p1 - y1, p2 - y2]),
        [(0.3, 0.7, 1.0, 0.0), (0.5, 0.5, 0.0, 1.0)],
    )
    assert error == 0.0
    nan = D.check_numerically(D.l2_grad(), [d], lambda x: np.nan, [1.0, 2.0])
    assert np.isnan(nan)
    with pytest.raises(ValueError, match="each point needs 4 numbers"):
        D.check_numerically(D.softmax_cross_entropy_grad(2), [*ps, *ys], np.add, [(1.0, 2.0)])


# ---------------------------------------------------------------------------------------
# MAP estimation: cross-entropy plus an L2 penalty is a Gaussian prior
# ---------------------------------------------------------------------------------------


def test_gaussian_prior_negative_log_posterior_symbolic():
    """Is −log(likelihood · prior) = −Σ log q_i + Σ w_j²/(2τ²) + (D/2) log(2πτ²), λ = 1/(2Nτ²)?"""
    result = D.gaussian_prior_negative_log_posterior()
    s = result["symbols"]
    n_samples, n_weights, tau = s["N"], s["D"], s["tau"]
    q_i, w_j, i, j = s["q"], s["w"], s["i"], s["j"]
    assert is_zero(result["data"] - sp.Sum(-sp.log(q_i[i]), (i, 1, n_samples)).doit())
    assert is_zero(result["penalty"] - sp.Sum(w_j[j] ** 2, (j, 1, n_weights)) / (2 * tau**2))
    assert is_zero(
        sp.expand_log(result["constant"] - n_weights / 2 * sp.log(2 * sp.pi * tau**2), force=True)
    )
    assert is_zero(result["lambda_mean"] - 1 / (2 * n_samples * tau**2))
    assert is_zero(result["lambda_sum"] - 1 / (2 * tau**2))


def test_gaussian_prior_negative_log_posterior_matches_scipy_densities(rng):
    """With N = 4, D = 3 numbers put in, do the three parts add up to −log of SciPy's pdfs?"""
    from scipy import stats

    result = D.gaussian_prior_negative_log_posterior()
    s = result["symbols"]
    probs, weights, tau_value = rng.uniform(0.05, 0.95, 4), rng.normal(size=3), 0.7
    values = {s["N"]: 4, s["D"]: 3, s["tau"]: tau_value}
    values |= {s["q"][k + 1]: v for k, v in enumerate(probs)}
    values |= {s["w"][k + 1]: v for k, v in enumerate(weights)}
    total = sum(result[part] for part in ("data", "penalty", "constant"))
    derived = float(total.subs({s["N"]: 4, s["D"]: 3}).doit().subs(values))
    # The oracle: the likelihood is the product of the given probabilities, the prior
    # SciPy's normal density with standard deviation τ.
    oracle = -np.sum(np.log(probs)) - np.sum(stats.norm.logpdf(weights, scale=tau_value))
    assert derived == pytest.approx(oracle, rel=1e-13)


def test_gaussian_prior_lambda_gives_the_map_estimate_of_a_logistic_regression():
    """Does mean BCE + λ w² with λ = 1/(2Nτ²) have its minimum at the posterior's mode?

    A one-weight logistic regression p(y = 1 | x) = σ(w x) on five points that are
    linearly separable, so without the prior there would be no maximum at all. The mode of
    the posterior is found from SciPy's Bernoulli and normal log-densities; the penalised
    loss uses the reference's mean ``sigmoid_cross_entropy``. A λ without the 1/N (the
    summed-loss value) must land elsewhere.
    """
    from scipy import optimize, stats

    x = np.array([-2.0, -1.0, -0.3, 0.5, 1.5])
    labels = (x > 0).astype(np.float64)
    tau_value = 0.8
    result = D.gaussian_prior_negative_log_posterior()
    s = result["symbols"]

    def negative_log_posterior(w):
        probs = 1 / (1 + np.exp(-w * x))
        log_likelihood = np.sum(stats.bernoulli.logpmf(labels, probs))
        return -(log_likelihood + stats.norm.logpdf(w, scale=tau_value))

    def penalised_mean_loss(w, lam):
        return classification.sigmoid_cross_entropy(w * x, labels) + lam * w**2

    def argmin(f):
        bounded = {"bounds": (-50, 50), "method": "bounded", "options": {"xatol": 1e-12}}
        return optimize.minimize_scalar(f, **bounded).x

    lam_mean = float(result["lambda_mean"].subs({s["N"]: len(x), s["tau"]: tau_value}))
    lam_sum = float(result["lambda_sum"].subs(s["tau"], tau_value))
    mode = argmin(negative_log_posterior)
    assert argmin(lambda w: penalised_mean_loss(w, lam_mean)) == pytest.approx(mode, abs=1e-7)
    assert abs(argmin(lambda w: penalised_mean_loss(w, lam_sum)) - mode) > 0.1


def test_gaussian_prior_negative_log_posterior_result_is_a_fresh_dict():
    """Can a caller edit the returned dict without changing the next call's result?"""
    first = D.gaussian_prior_negative_log_posterior()
    first["penalty"] = 0
    first["symbols"].clear()
    second = D.gaussian_prior_negative_log_posterior()
    assert second["penalty"] != 0 and second["symbols"]["tau"].is_positive
