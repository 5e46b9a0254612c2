"""Every misconception message against an answer that has exactly that misconception.

Each entry below is a correct answer of the source notebook with one slip a student makes
(the ``old`` text of the solution replaced by ``new``): naive softmax, log(softmax), a
clipped probability, a forgotten minus sign, 'sum' for 'mean' … The test cell that probes
it must fail and name that misconception **first**: its first failing category (the
``Verdict.categories`` the class report counts) is the entry's, and the first line of the
feedback is that category's message. The batteries order their cases, and recognise some
slips from the numbers (``Test.diagnose``: swapped arguments, forward differences, a
wrong subgradient at the kink, a bias left out), so that holds.

The answer runs in the namespace the notebook gives it: the notebook's set-up cells and
every other correct answer (``train`` calls ``forward_backward``; SymPy answers use ``z``).
A coverage test checks that every case category of every battery has an entry, except the
few listed in ``NOT_ALONE`` with the reason no single slip can show them first.
"""

# ruff: noqa: E501 - each slip is a line of student code, kept whole to read as code

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.batteries import ASSIGNMENTS, load

REPO = Path(__file__).resolve().parents[2]
PS1, PS2, PS3, PS4, PS5, PS6, PS7, PS8 = ASSIGNMENTS


@dataclass(frozen=True)
class M:
    """A slip: in ``assignment``'s answer to the function of ``grade_id``, ``old`` → ``new``."""

    assignment: str
    grade_id: str
    category: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.grade_id}-{self.category}"


CATALOGUE = [
    # ps1_information -----------------------------------------------------------------
    M(PS1, "test_self_information", "value", "nats = -np.log(p)", "nats = -p * np.log(p)"),
    M(
        PS1,
        "test_self_information",
        "base",
        "return nats / np.log(base)",
        "return nats * np.log(base)",
    ),
    M(
        PS1,
        "test_self_information",
        "impossible",
        "nats = -np.log(p)",
        "nats = -np.log(np.maximum(p, 1e-12))",
    ),
    M(PS1, "test_self_information", "tiny", "nats = -np.log(p)", "nats = -np.log1p(p - 1.0)"),
    M(
        PS1,
        "test_entropy",
        "value",
        "nats = -np.sum(p * log_p, axis=axis)",
        "nats = -np.sum(log_p, axis=axis)",
    ),
    M(
        PS1,
        "test_entropy",
        "zero_prob",
        "log_p = np.log(np.where(p > 0, p, 1.0))",
        "log_p = np.log(p)",
    ),
    M(PS1, "test_entropy", "base", "return nats / np.log(base)", "return nats * np.log(base)"),
    M(
        PS1,
        "test_entropy",
        "unnormalised",
        "p = np.asarray(p, dtype=np.float64)",
        "p = np.asarray(p, dtype=np.float64)\n    p = p / np.sum(p, axis=axis, keepdims=True)",
    ),
    M(
        PS1,
        "test_entropy_axis",
        "axis",
        "nats = -np.sum(p * log_p, axis=axis)",
        "nats = -np.sum(p * log_p, axis=-1)",
    ),
    M(PS1, "test_binary_entropy", "value", "nats = -(heads + tails)", "nats = -heads"),
    M(
        PS1,
        "test_binary_entropy",
        "base",
        "return nats / np.log(base)",
        "return nats * np.log(base)",
    ),
    M(
        PS1,
        "test_binary_entropy",
        "zero_prob",
        "    heads = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)\n    tails = np.where(p < 1, (1.0 - p) * np.log1p(-np.where(p < 1, p, 0.0)), 0.0)",
        "    heads = p * np.log(p)\n    tails = (1.0 - p) * np.log1p(-p)",
    ),
    # ps2_divergence ------------------------------------------------------------------
    M(
        PS2,
        "test_kl_divergence",
        "value",
        "terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / q), 0.0)",
        "terms = np.where(p > 0, np.log(np.where(p > 0, p, 1.0) / q), 0.0)",
    ),
    M(
        PS2,
        "test_kl_divergence",
        "identity",
        "nats = np.sum(terms, axis=axis)",
        "nats = np.sum(terms, axis=axis) + np.sum(p * 0 + 1e-3, axis=axis)",
    ),
    M(
        PS2,
        "test_kl_divergence",
        "zero_prob",
        "terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / q), 0.0)",
        "terms = p * np.log(p / q)",
    ),
    M(
        PS2,
        "test_kl_divergence",
        "zero_q",
        "np.log(np.where(p > 0, p, 1.0) / q)",
        "np.log(np.where(p > 0, p, 1.0) / np.maximum(q, 1e-12))",
    ),
    M(
        PS2,
        "test_kl_divergence",
        "unnormalised",
        "p = np.asarray(p, dtype=np.float64)\n    q = np.asarray(q, dtype=np.float64)",
        "p = np.asarray(p, dtype=np.float64)\n    q = np.asarray(q, dtype=np.float64)\n    p = p / np.sum(p, axis=axis, keepdims=True)\n    q = q / np.sum(q, axis=axis, keepdims=True)",
    ),
    M(
        PS2,
        "test_kl_divergence_axis",
        "axis",
        "nats = np.sum(terms, axis=axis)",
        "nats = np.sum(terms, axis=-1)",
    ),
    M(
        PS2,
        "test_kl_divergence_axis",
        "base",
        "return nats / np.log(base)",
        "return nats / np.log2(base)",
    ),
    M(
        PS2,
        "test_cross_entropy",
        "value",
        "terms = np.where(p > 0, -p * np.log(np.where(p > 0, q, 1.0)), 0.0)",
        "terms = np.where(p > 0, -q * np.log(np.where(p > 0, q, 1.0)), 0.0)",
    ),
    M(
        PS2,
        "test_cross_entropy",
        "zero_prob",
        "terms = np.where(p > 0, -p * np.log(np.where(p > 0, q, 1.0)), 0.0)",
        "terms = -p * np.log(q)",
    ),
    M(
        PS2,
        "test_cross_entropy",
        "base",
        "return nats / np.log(base)",
        "return nats * np.log(base)",
    ),
    M(
        PS2,
        "test_cross_entropy",
        "zero_q",
        "np.log(np.where(p > 0, q, 1.0))",
        "np.log(np.maximum(np.where(p > 0, q, 1.0), 1e-12))",
    ),
    M(
        PS2,
        "test_cross_entropy",
        "unnormalised",
        "p = np.asarray(p, dtype=np.float64)\n    q = np.asarray(q, dtype=np.float64)",
        "p = np.asarray(p, dtype=np.float64)\n    q = np.asarray(q, dtype=np.float64)\n    q = q / np.sum(q, axis=axis, keepdims=True)",
    ),
    M(
        PS2,
        "test_cross_entropy_axis",
        "axis",
        "nats = np.sum(terms, axis=axis)",
        "nats = np.sum(terms, axis=-1)",
    ),
    M(
        PS2,
        "test_kl_divergence",
        "asymmetry",
        "p = np.asarray(p, dtype=np.float64)\n    q = np.asarray(q, dtype=np.float64)",
        "p, q = np.asarray(q, dtype=np.float64), np.asarray(p, dtype=np.float64)",
    ),
    M(
        PS2,
        "test_cross_entropy",
        "asymmetry",
        "p = np.asarray(p, dtype=np.float64)\n    q = np.asarray(q, dtype=np.float64)",
        "p, q = np.asarray(q, dtype=np.float64), np.asarray(p, dtype=np.float64)",
    ),
    # ps3_softmax_sigmoid -------------------------------------------------------------
    M(
        PS3,
        "test_sigmoid",
        "value",
        "return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
        "return np.where(z >= 0, 1.0 / (1.0 + e), 1.0 / (1.0 + e))",
    ),
    M(
        PS3,
        "test_sigmoid",
        "overflow",
        "    e = np.exp(-np.abs(z))\n    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
        "    return 1.0 / (1.0 + np.exp(-z))",
    ),
    M(
        PS3,
        "test_log_sigmoid",
        "value",
        "return np.minimum(z, 0.0) - np.log1p(np.exp(-np.abs(z)))",
        "return np.minimum(z, 0.0) - np.log(np.exp(-np.abs(z)))",
    ),
    M(
        PS3,
        "test_log_sigmoid",
        "underflow",
        "return np.minimum(z, 0.0) - np.log1p(np.exp(-np.abs(z)))",
        "e = np.exp(-np.abs(z))\n    return np.log(np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)))",
    ),
    M(
        PS3,
        "test_logsumexp",
        "value",
        "out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))",
        "out = m + np.sum(np.exp(z - m), axis=axis, keepdims=True)",
    ),
    M(
        PS3,
        "test_logsumexp",
        "overflow",
        "out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))",
        "out = np.log(np.sum(np.exp(z), axis=axis, keepdims=True))",
    ),
    M(
        PS3,
        "test_logsumexp",
        "axis",
        "m = np.max(z, axis=axis, keepdims=True)",
        "axis = -1\n    m = np.max(z, axis=axis, keepdims=True)",
    ),
    M(
        PS3,
        "test_softmax",
        "overflow",
        "e = np.exp(z - np.max(z, axis=axis, keepdims=True))",
        "e = np.exp(z)",
    ),
    M(
        PS3,
        "test_softmax",
        "axis",
        "e = np.exp(z - np.max(z, axis=axis, keepdims=True))\n    return e / np.sum(e, axis=axis, keepdims=True)",
        "e = np.exp(z - np.max(z, axis=-1, keepdims=True))\n    return e / np.sum(e, axis=-1, keepdims=True)",
    ),
    M(
        PS3,
        "test_log_softmax",
        "large_gap",
        "return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))",
        "return np.log(np.exp(shifted) / np.sum(np.exp(shifted), axis=axis, keepdims=True))",
    ),
    M(
        PS3,
        "test_log_softmax",
        "batch",
        "z = np.asarray(z, dtype=np.float64)",
        "z = np.asarray(z, dtype=np.float64)\n    if z.ndim > 1:\n        return np.stack([z[0] - np.max(z[0]) - np.log(np.sum(np.exp(z[0] - np.max(z[0]))))] * len(z))",
    ),
    M(
        PS3,
        "test_log_softmax",
        "value",
        "return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))",
        "return shifted",
    ),
    M(
        PS3,
        "test_log_softmax",
        "masked",
        "shifted = z - np.max(z, axis=axis, keepdims=True)",
        "shifted = z - np.max(z, axis=axis, keepdims=True)\n    shifted = np.where(np.isinf(shifted), -1e300, shifted)",
    ),
    M(
        PS3,
        "test_log_softmax",
        "axis",
        "shifted = z - np.max(z, axis=axis, keepdims=True)",
        "axis = -1\n    shifted = z - np.max(z, axis=axis, keepdims=True)",
    ),
    M(
        PS3,
        "test_softmax_jacobian",
        "value",
        "return s[..., :, None] * np.eye(s.shape[-1]) - s[..., :, None] * s[..., None, :]",
        "return s[..., :, None] * np.eye(s.shape[-1]) + s[..., :, None] * s[..., None, :]",
    ),
    M(
        PS3,
        "test_softmax_jacobian",
        "overflow",
        "e = np.exp(z - np.max(z, axis=-1, keepdims=True))",
        "e = np.exp(z)",
    ),
    M(
        PS3,
        "test_softmax_jacobian",
        "batch",
        "return s[..., :, None] * np.eye(s.shape[-1]) - s[..., :, None] * s[..., None, :]",
        "return np.diag(s.ravel()) - np.outer(s, s)",
    ),
    M(
        PS3,
        "test_sigmoid",
        "batch",
        "z = np.asarray(z, dtype=np.float64)",
        "z = np.asarray(z, dtype=np.float64)\n    if z.ndim > 1:\n        z = z.reshape(-1)",
    ),
    M(
        PS3,
        "test_log_sigmoid",
        "overflow",
        "return np.minimum(z, 0.0) - np.log1p(np.exp(-np.abs(z)))",
        "return z - np.log1p(np.exp(z))",
    ),
    M(
        PS3,
        "test_log_sigmoid",
        "batch",
        "z = np.asarray(z, dtype=np.float64)",
        "z = np.asarray(z, dtype=np.float64)\n    if z.ndim > 1:\n        z = z.reshape(-1)",
    ),
    M(
        PS3,
        "test_logsumexp",
        "masked",
        "z = np.asarray(z, dtype=np.float64)",
        "z = np.asarray(z, dtype=np.float64)\n    z = np.where(np.isinf(z), 0.0, z)",
    ),
    M(
        PS3,
        "test_logsumexp",
        "batch",
        "out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))",
        "out = m + np.log(np.sum(np.exp(z - m)))",
    ),
    M(
        PS3,
        "test_softmax",
        "value",
        "return e / np.sum(e, axis=axis, keepdims=True)",
        "return e / np.max(e, axis=axis, keepdims=True)",
    ),
    M(
        PS3,
        "test_softmax",
        "batch",
        "return e / np.sum(e, axis=axis, keepdims=True)",
        "return e / np.sum(e)",
    ),
    M(
        PS3,
        "test_softmax",
        "masked",
        "z = np.asarray(z, dtype=np.float64)",
        "z = np.asarray(z, dtype=np.float64)\n    z = np.where(np.isinf(z), 0.0, z)",
    ),
    M(PS3, "test_softmax", "float32", "z = np.asarray(z, dtype=np.float64)", "z = np.asarray(z)"),
    M(
        PS3,
        "test_log_softmax",
        "overflow",
        "    shifted = z - np.max(z, axis=axis, keepdims=True)\n",
        "    shifted = z\n",
    ),
    # ps4_classification_losses -------------------------------------------------------
    M(
        PS4,
        "test_softmax_cross_entropy",
        "value",
        "losses = -log_probs[np.arange(n), target]",
        "losses = np.log(np.sum(np.exp(shifted), axis=-1)) - logits[np.arange(n), target]",
    ),
    M(
        PS4,
        "test_softmax_cross_entropy",
        "reduction",
        '        return np.sum(losses)\n    if reduction == "mean":',
        '        return np.mean(losses)\n    if reduction == "mean":',
    ),
    M(
        PS4,
        "test_softmax_cross_entropy_stable",
        "overflow",
        "shifted = logits - np.max(logits, axis=-1, keepdims=True)",
        "shifted = logits",
    ),
    M(
        PS4,
        "test_softmax_cross_entropy_stable",
        "large_gap",
        "log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))",
        "log_probs = np.log(np.exp(shifted) / np.sum(np.exp(shifted), axis=-1, keepdims=True))",
    ),
    M(
        PS4,
        "test_softmax_cross_entropy_stable",
        "index",
        '    if np.any((target < 0) | (target >= c)):\n        raise ValueError(f"target class indices must be in 0 .. {c - 1}")\n',
        "",
    ),
    M(
        PS4,
        "test_binary_cross_entropy",
        "sign",
        "losses = -(target * log_p + (1.0 - target) * log_not_p)",
        "losses = -(target * log_p) + (1.0 - target) * log_not_p",
    ),
    M(
        PS4,
        "test_binary_cross_entropy",
        "value",
        "losses = -(target * log_p + (1.0 - target) * log_not_p)",
        "losses = -(target * log_p)",
    ),
    M(
        PS4,
        "test_binary_cross_entropy",
        "reduction",
        '        return np.sum(losses)\n    if reduction == "mean":',
        '        return np.mean(losses)\n    if reduction == "mean":',
    ),
    M(
        PS4,
        "test_binary_cross_entropy",
        "soft",
        "target = np.asarray(target, dtype=np.float64)",
        "target = np.round(np.asarray(target, dtype=np.float64))",
    ),
    M(
        PS4,
        "test_binary_cross_entropy_edges",
        "clamp",
        "        log_p = np.maximum(np.log(probs), -100.0)\n        log_not_p = np.maximum(np.log1p(-probs), -100.0)",
        "        clipped = np.clip(probs, 1e-7, 1 - 1e-7)\n        log_p = np.log(clipped)\n        log_not_p = np.log1p(-clipped)",
    ),
    M(
        PS4,
        "test_binary_cross_entropy_edges",
        "range",
        '    if np.any((probs < 0) | (probs > 1)):\n        raise ValueError("probs must be probabilities in [0, 1]")\n',
        "",
    ),
    M(
        PS4,
        "test_sigmoid_cross_entropy",
        "value",
        "losses = np.maximum(x, 0.0) - x * t + np.log1p(np.exp(-np.abs(x)))",
        "losses = np.maximum(x, 0.0) - x * t + np.exp(-np.abs(x))",
    ),
    M(
        PS4,
        "test_sigmoid_cross_entropy",
        "reduction",
        "    return np.mean(losses)\n    raise",
        "    return np.sum(losses)\n    raise",
    ),
    M(
        PS4,
        "test_sigmoid_cross_entropy",
        "multilabel",
        "        return np.mean(losses)\n    raise",
        "        return np.sum(losses) / len(losses)\n    raise",
    ),
    M(
        PS4,
        "test_sigmoid_cross_entropy",
        "soft",
        "t = np.asarray(target, dtype=np.float64)",
        "t = np.round(np.asarray(target, dtype=np.float64))",
    ),
    M(
        PS4,
        "test_sigmoid_cross_entropy_stable",
        "overflow",
        "losses = np.maximum(x, 0.0) - x * t + np.log1p(np.exp(-np.abs(x)))",
        "losses = -(t * np.log(1 / (1 + np.exp(-x))) + (1 - t) * np.log(1 - 1 / (1 + np.exp(-x))))",
    ),
    M(
        PS4,
        "test_sigmoid_cross_entropy_stable",
        "soft",
        "losses = np.maximum(x, 0.0) - x * t + np.log1p(np.exp(-np.abs(x)))",
        "losses = np.where(t > 0.5, np.maximum(-x, 0.0) + np.log1p(np.exp(-np.abs(x))), np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))))",
    ),
    # ps5_gradients -------------------------------------------------------------------
    M(
        PS5,
        "test_softmax_cross_entropy_grad",
        "value",
        "grad[rows, labels] = -np.sum(grad, axis=-1)",
        "grad[rows, labels] = np.sum(grad, axis=-1)",
    ),
    M(
        PS5,
        "test_softmax_cross_entropy_grad",
        "overflow",
        "e = np.exp(z - np.max(z, axis=-1, keepdims=True))  # max shift: no overflow",
        "e = np.exp(z)",
    ),
    M(
        PS5,
        "test_softmax_cross_entropy_grad",
        "masked",
        "z = np.asarray(logits, dtype=np.float64)",
        "z = np.asarray(logits, dtype=np.float64)\n    z = np.where(np.isinf(z), 0.0, z)",
    ),
    M(
        PS5,
        "test_softmax_cross_entropy_grad",
        "reduction",
        '    if reduction == "mean":\n        grad /= z.shape[0]\n',
        "",
    ),
    M(
        PS5,
        "test_softmax_cross_entropy_grad_precision",
        "precision_softmax",
        "    grad[rows, labels] = 0.0\n    grad[rows, labels] = -np.sum(grad, axis=-1)",
        "    grad[rows, labels] -= 1.0",
    ),
    M(
        PS5,
        "test_sigmoid_cross_entropy_grad",
        "value",
        "grad = (1.0 - t) * stable_sigmoid(x) - t * stable_sigmoid(-x)",
        "grad = (1.0 - t) * stable_sigmoid(x) + t * stable_sigmoid(-x)",
    ),
    M(
        PS5,
        "test_sigmoid_cross_entropy_grad",
        "overflow",
        "grad = (1.0 - t) * stable_sigmoid(x) - t * stable_sigmoid(-x)",
        "grad = np.exp(x) / (1.0 + np.exp(x)) - t",
    ),
    M(
        PS5,
        "test_sigmoid_cross_entropy_grad",
        "soft_target",
        "grad = (1.0 - t) * stable_sigmoid(x) - t * stable_sigmoid(-x)",
        "t = np.round(t)\n    grad = (1.0 - t) * stable_sigmoid(x) - t * stable_sigmoid(-x)",
    ),
    M(
        PS5,
        "test_sigmoid_cross_entropy_grad",
        "reduction",
        "grad = grad / x.size",
        "grad = grad / x.shape[0]",
    ),
    M(
        PS5,
        "test_sigmoid_cross_entropy_grad_precision",
        "precision_sigmoid",
        "grad = (1.0 - t) * stable_sigmoid(x) - t * stable_sigmoid(-x)",
        "grad = stable_sigmoid(x) - t",
    ),
    M(
        PS5,
        "test_numerical_gradient",
        "central",
        "        grad[idx] = (f_plus - f_minus) / (2.0 * eps)",
        "        x[idx] = old\n        grad[idx] = (f_plus - f(x)) / eps",
    ),
    M(
        PS5,
        "test_numerical_gradient",
        "shape",
        "    grad = np.empty_like(x)\n    for idx in np.ndindex(x.shape):",
        "    grad = np.empty_like(x)\n    for idx in range(x.shape[0]):",
    ),
    M(
        PS5,
        "test_numerical_gradient",
        "eps",
        "def numerical_gradient(f, x, eps=1e-6):",
        "def numerical_gradient(f, x, eps=1e-6):\n    eps = 1e-6",
    ),
    M(
        PS5,
        "test_numerical_gradient",
        "int_input",
        "x = np.array(x, dtype=np.float64)  # a private copy: the caller's array stays untouched",
        "x = np.array(x)",
    ),
    M(
        PS5,
        "test_numerical_gradient",
        "value",
        "grad[idx] = (f_plus - f_minus) / (2.0 * eps)",
        "grad[idx] = (f_plus - f_minus) / eps",
    ),
    M(
        PS5,
        "test_bce_logit_grad_expr",
        "sign",
        "return sp.diff(-(y * sp.log(s) + (1 - y) * sp.log(1 - s)), z)",
        "return sp.diff(y * sp.log(s) + (1 - y) * sp.log(1 - s), z)",
    ),
    # ps6_regression_losses -----------------------------------------------------------
    M(PS6, "test_mse_loss", "value", "losses = d * d", "losses = np.abs(d) * d"),
    M(
        PS6,
        "test_mse_loss",
        "reduction",
        "    return np.mean(losses)",
        "    return np.sum(losses) / d.shape[0]",
    ),
    M(
        PS6,
        "test_mse_loss",
        "batch",
        "d = np.asarray(input, dtype=np.float64) - np.asarray(target, dtype=np.float64)",
        "d = np.asarray(input, dtype=np.float64).ravel() - np.asarray(target, dtype=np.float64).ravel()",
    ),
    M(
        PS6,
        "test_mse_loss",
        "dtype",
        "d = np.asarray(input, dtype=np.float64) - np.asarray(target, dtype=np.float64)",
        "d = np.asarray(input) - np.asarray(target)",
    ),
    M(
        PS6,
        "test_l1_loss_grad",
        "kink",
        "grad = np.sign(d)  # sign(0) = 0: the subgradient PyTorch returns at the kink",
        "grad = np.where(d >= 0, 1.0, -1.0)",
    ),
    M(
        PS6,
        "test_smooth_l1_loss",
        "boundary",
        "        m = np.minimum(a, beta)\n        losses = 0.5 * m * m / beta + (a - m)",
        "        losses = np.select([a < beta, a > beta], [0.5 * a * a / beta, a - 0.5 * beta])",
    ),
    M(
        PS6,
        "test_smooth_l1_loss",
        "beta",
        "losses = 0.5 * m * m / beta + (a - m)",
        "losses = 0.5 * m * m + (a - m)",
    ),
    M(
        PS6,
        "test_smooth_l1_loss",
        "huge",
        "        m = np.minimum(a, beta)\n        losses = 0.5 * m * m / beta + (a - m)",
        "        inside = (a < beta).astype(np.float64)\n        losses = inside * (0.5 * d * d / beta) + (1.0 - inside) * (a - 0.5 * beta)",
    ),
    M(
        PS6,
        "test_smooth_l1_loss",
        "raises",
        '    if beta < 0:\n        raise ValueError(f"beta must be >= 0, got {beta}")\n',
        "",
    ),
    M(
        PS6,
        "test_smooth_l1_loss",
        "beta_zero",
        "    if beta == 0:\n        losses = a\n    else:",
        "    if True:",
    ),
    M(
        PS6,
        "test_huber_loss",
        "delta",
        "losses = 0.5 * m * m + delta * (a - m)",
        "losses = 0.5 * m * m + (a - m)",
    ),
    # ps7_training --------------------------------------------------------------------
    M(PS7, "test_forward_backward", "value", "g[rows, y] -= 1.0", "g[rows, y] += 1.0"),
    M(
        PS7,
        "test_forward_backward",
        "bias",
        "return float(loss), X.T @ g, np.sum(g, axis=0)",
        "return float(loss), X.T @ g, np.zeros(g.shape[1])",
    ),
    M(PS7, "test_forward_backward", "reduction", "    g /= n\n", ""),
    M(
        PS7,
        "test_forward_backward",
        "overflow",
        "    z = z - np.max(z, axis=1, keepdims=True)  # max shift: exp never overflows\n",
        "",
    ),
    M(
        PS7,
        "test_forward_backward",
        "large_gap",
        "    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))",
        "    log_p = np.log(np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True))",
    ),
    M(PS7, "test_predict", "predict", "@ W + b, axis=1)", "@ W + b, axis=0)"),
    M(
        PS7,
        "test_predict",
        "bias",
        "return np.argmax(np.asarray(X, dtype=np.float64) @ W + b, axis=1)",
        "return np.argmax(np.asarray(X, dtype=np.float64) @ W, axis=1)",
    ),
    M(
        PS7,
        "test_train",
        "accuracy",
        "def train(X, y, num_classes, *, lr=1.0, epochs=200, step=None):",
        "def train(X, y, num_classes, *, lr=1.0, epochs=2, step=None):",
    ),
    M(PS7, "test_train", "bias", "        b -= lr * db\n", ""),
    # ps8_beyond ----------------------------------------------------------------------
    M(
        PS8,
        "test_focal_loss",
        "value",
        "bce = t * softplus_neg + (1.0 - t) * softplus_pos",
        "bce = t * softplus_pos + (1.0 - t) * softplus_neg",
    ),
    M(
        PS8,
        "test_focal_loss",
        "focusing",
        "loss = q**gamma * bce",
        "loss = (1.0 - q) ** gamma * bce",
    ),
    M(
        PS8,
        "test_focal_loss",
        "alpha_t",
        "loss = (alpha * t + (1.0 - alpha) * (1.0 - t)) * loss",
        "loss = alpha * loss",
    ),
    M(
        PS8,
        "test_focal_loss",
        "no_weighting",
        "    if alpha >= 0:\n        loss =",
        "    if True:\n        loss =",
    ),
    M(
        PS8,
        "test_focal_loss",
        "soft",
        "t = np.asarray(target, dtype=np.float64)",
        "t = np.round(np.asarray(target, dtype=np.float64))",
    ),
    M(
        PS8,
        "test_focal_loss",
        "reduction",
        'def focal_loss(logits, target, *, alpha=0.25, gamma=2.0, reduction="none"):',
        'def focal_loss(logits, target, *, alpha=0.25, gamma=2.0, reduction="mean"):',
    ),
    M(
        PS8,
        "test_focal_loss_stable",
        "overflow",
        "softplus_neg = np.maximum(-x, 0.0) + np.log1p(e)  # −log σ(x)",
        "softplus_neg = -np.log(1.0 / (1.0 + np.exp(-x)))",
    ),
    M(
        PS8,
        "test_focal_loss_grad",
        "value",
        "resid = sig_pos * (1.0 - t) - sig_neg * t",
        "resid = sig_pos * (1.0 - t)",
    ),
    M(
        PS8,
        "test_focal_loss_grad",
        "focusing_grad",
        "        grad = grad + np.where(q > 0, focus, 0.0)",
        "        pass",
    ),
    M(
        PS8,
        "test_focal_loss_grad",
        "alpha_t",
        "grad = (alpha * t + (1.0 - alpha) * (1.0 - t)) * grad",
        "grad = alpha * grad",
    ),
    M(
        PS8,
        "test_focal_loss_grad",
        "no_weighting",
        "    if alpha >= 0:\n        grad =",
        "    if True:\n        grad =",
    ),
    M(
        PS8,
        "test_focal_loss_grad",
        "soft",
        "t = np.asarray(target, dtype=np.float64)",
        "t = np.round(np.asarray(target, dtype=np.float64))",
    ),
    M(
        PS8,
        "test_focal_loss_grad",
        "reduction",
        "grad = grad / grad.size",
        "grad = grad / len(grad)",
    ),
    M(
        PS8,
        "test_focal_loss_grad",
        "overflow",
        "softplus_pos = np.maximum(x, 0.0) + np.log1p(e)",
        "softplus_pos = np.log1p(np.exp(x))",
    ),
    M(
        PS8,
        "test_smoothed_cross_entropy",
        "value",
        "log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))",
        "log_p = shifted - np.log(np.sum(shifted, axis=1, keepdims=True))",
    ),
    M(
        PS8,
        "test_smoothed_cross_entropy",
        "smoothing",
        "soft = np.full((n, c), label_smoothing / c)",
        "soft = np.full((n, c), label_smoothing / (c - 1))",
    ),
    M(
        PS8,
        "test_smoothed_cross_entropy",
        "overflow",
        "shifted = z - z.max(axis=1, keepdims=True)",
        "shifted = z",
    ),
    M(
        PS8,
        "test_smoothed_cross_entropy",
        "reduction",
        '    if reduction == "sum":\n        return np.sum(losses)\n    return np.mean(losses)',
        "    return np.mean(losses)",
    ),
    M(
        PS8,
        "test_multi_margin_loss",
        "value",
        "z = margin - x[rows, y][:, None] + x",
        "z = margin + x[rows, y][:, None] - x",
    ),
    M(PS8, "test_multi_margin_loss", "true_class", "    h[rows, y] = 0.0\n", ""),
    M(
        PS8,
        "test_multi_margin_loss",
        "classes",
        "losses = h.sum(axis=1) / c",
        "losses = h.sum(axis=1)",
    ),
    M(
        PS8,
        "test_multi_margin_loss",
        "sum",
        "losses = h.sum(axis=1) / c",
        "losses = h.max(axis=1) / c",
    ),
    M(
        PS8,
        "test_multi_margin_loss",
        "margin",
        "z = margin - x[rows, y][:, None] + x",
        "z = 1.0 - x[rows, y][:, None] + x",
    ),
    M(
        PS8,
        "test_multi_margin_loss",
        "squared",
        "h = np.maximum(z, 0.0) ** p",
        "h = np.maximum(z, 0.0)",
    ),
    M(
        PS8,
        "test_multi_margin_loss",
        "weight",
        "losses = np.asarray(weight, dtype=np.float64)[y] * losses",
        "losses = losses",
    ),
    M(
        PS8,
        "test_multi_margin_loss",
        "reduction",
        '    if reduction == "sum":\n        return np.sum(losses)\n    return np.mean(losses)',
        "    return np.mean(losses)",
    ),
    M(
        PS8,
        "test_multi_margin_loss",
        "weight_mean",
        "    return np.mean(losses)",
        "    return np.sum(losses) / (np.sum(np.asarray(weight, dtype=np.float64)[y]) if weight is not None else len(losses))",
    ),
    M(
        PS8,
        "test_expected_calibration_error",
        "value",
        "correct = (p.argmax(axis=1) == y).astype(np.float64)",
        "correct = (p.argmax(axis=1) != y).astype(np.float64)",
    ),
    M(
        PS8,
        "test_expected_calibration_error",
        "empty",
        "        if inside.any():\n            ece +=",
        "        if True:\n            ece +=",
    ),
    M(
        PS8,
        "test_expected_calibration_error",
        "confidence",
        "conf = p.max(axis=1)",
        "conf = p[np.arange(len(y)), y]",
    ),
    M(
        PS8,
        "test_expected_calibration_error",
        "n_bins",
        "edges = np.linspace(0.0, 1.0, n_bins + 1)",
        "edges = np.linspace(0.0, 1.0, 16)\n    n_bins = 15",
    ),
    M(
        PS8,
        "test_expected_calibration_error",
        "weighting",
        "ece += inside.mean() * abs(",
        "ece += 1.0 / n_bins * abs(",
    ),
    M(
        PS8,
        "test_expected_calibration_error",
        "edges",
        "inside = (conf > edges[b]) & (conf <= edges[b + 1])",
        "inside = (conf >= edges[b]) & (conf < edges[b + 1])",
    ),
]

#: Case categories no single realistic slip can fail first, and why (not tested above).
NOT_ALONE = {
    "random": "generic: random inputs catch a wrong formula the earlier, specific cases miss",
}


def _cells(assignment: str) -> list[dict]:
    path = REPO / "solutions" / assignment / f"{assignment}.ipynb"
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def notebook_namespace(assignment: str) -> dict:
    """The notebook's code up to its last answer, test cells left out, executed."""
    cells = _cells(assignment)
    last = max(i for i, c in enumerate(cells) if _meta(c).get("solution"))
    namespace: dict = {"__name__": "__student__"}
    for cell in cells[: last + 1]:
        meta = _meta(cell)
        if cell["cell_type"] == "code" and not (meta.get("grade") and not meta.get("solution")):
            exec(compile(_source(cell), assignment, "exec"), namespace)  # the course's code
    return namespace


def answer(entry: M):
    """The function with ``entry``'s slip, defined in its notebook's namespace."""
    battery = load(entry.assignment)
    function = battery.test(entry.grade_id).function
    cell = next(c for c in _cells(entry.assignment) if _meta(c).get("grade_id") == function)
    source = _source(cell)
    assert source.count(entry.old) == 1, f"{entry}: the slip's text is not in the answer once"
    namespace = notebook_namespace(entry.assignment)
    exec(compile(source.replace(entry.old, entry.new), str(entry), "exec"), namespace)
    return namespace[function]


@pytest.mark.parametrize("entry", CATALOGUE, ids=str)
def test_slip_gets_its_own_message_first(entry, capsys):
    """Does the answer with exactly this slip fail its test with its category first?"""
    battery = load(entry.assignment)
    test = battery.test(entry.grade_id)
    verdict = battery.run(test, answer(entry))
    capsys.readouterr()  # ps7's set-up cell prints where its data file is missing
    assert not verdict.passed, f"{entry}: the slip passed"
    assert verdict.categories[0] == entry.category, verdict.message
    first_line = verdict.message.splitlines()[1]
    assert first_line.startswith("- " + battery.message_for(test, entry.category)), first_line


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_category_has_a_slip(assignment):
    """Does every case category of the battery have an entry (or a reason it cannot)?"""
    battery = load(assignment)
    categories = {case.category for test in battery.tests for case in test.cases}
    covered = {e.category for e in CATALOGUE if e.assignment == assignment}
    missing = sorted(categories - covered - set(NOT_ALONE))
    assert not missing, f"{assignment}: no slip shows {missing} first"


def test_correct_answers_pass():
    """Do the unchanged answers pass every test (so each failure above is the slip's)?"""
    for assignment in ASSIGNMENTS:
        battery = load(assignment)
        namespace = notebook_namespace(assignment)
        for test in battery.tests:
            assert battery.run(test, namespace[test.function]).passed, test.grade_id


# ---------------------------------------------------------------------------------------
# The visible tests and the grader judge the same answers alike

HIDDEN = "### BEGIN HIDDEN TESTS"

#: (assignment, function, answer, passes?): answers a student may write differently from
#: the solution (their own SymPy symbols) or wrongly; the visible test cell and the grader
#: must agree on each.
SAME_ANSWERS = [
    (
        PS5,
        "sigmoid_derivative_expr",
        'w = sp.Symbol("z")\nreturn sp.diff(1 / (1 + sp.exp(-w)), w)',
        True,
    ),
    (
        PS5,
        "sigmoid_derivative_expr",
        'w = sp.Symbol("z", positive=True)\nreturn sp.exp(-w) / (1 + sp.exp(-w)) ** 2',
        True,
    ),
    (
        PS5,
        "sigmoid_derivative_expr",
        'w = sp.Symbol("z")\nreturn -sp.exp(-w) / (1 + sp.exp(-w)) ** 2',
        False,
    ),
    (PS5, "bce_logit_grad_expr", 'a, b = sp.symbols("z y")\nreturn 1 / (1 + sp.exp(-a)) - b', True),
    (
        PS5,
        "bce_logit_grad_expr",
        'a, b = sp.symbols("z y")\nreturn b - 1 / (1 + sp.exp(-a))',
        False,
    ),
    (
        PS5,
        "mse_sigmoid_grad_expr",
        'a, b = sp.symbols("z y")\ns = 1 / (1 + sp.exp(-a))\nreturn (s - b) * s * (1 - s)',
        True,
    ),
    (
        PS5,
        "mse_sigmoid_grad_expr",
        'a, b = sp.symbols("z y")\ns = 1 / (1 + sp.exp(-a))\nreturn 2 * (s - b) * s * (1 - s)',
        False,
    ),
    (
        PS5,
        "softmax_jacobian_entry",
        'v = sp.symbols("z0 z1 z2")\nt = sum(sp.exp(u) for u in v)\nreturn sp.diff(sp.exp(v[i]) / t, v[j])',
        True,
    ),
    (
        PS5,
        "softmax_jacobian_entry",
        'v = sp.symbols("z0 z1 z2")\nreturn sp.exp(v[i]) / sum(sp.exp(u) for u in v)',
        False,
    ),
]


def _define(assignment: str, function: str, body: str):
    """The answer ``body`` under the solution's signature, in the notebook's namespace."""
    cell = next(c for c in _cells(assignment) if _meta(c).get("grade_id") == function)
    signature = _source(cell).split("\n", 1)[0]  # "def name(...):"
    namespace = notebook_namespace(assignment)
    indented = "\n".join("    " + line for line in body.splitlines())
    exec(compile(f"{signature}\n{indented}\n", function, "exec"), namespace)
    return namespace


def _visible_test_passes(assignment: str, grade_id: str, namespace: dict) -> bool:
    """Run the visible part of the test cell ``grade_id``; True unless an assert fails.

    Any other exception (a SymPy TypeError, numpy's IndexError) is a broken visible test:
    it propagates and fails the calling test.
    """
    cell = next(c for c in _cells(assignment) if _meta(c).get("grade_id") == grade_id)
    visible = _source(cell).split(HIDDEN)[0]
    try:
        exec(compile(visible, grade_id, "exec"), namespace)
    except AssertionError:
        return False
    return True


@pytest.mark.parametrize(("assignment", "function", "body", "passes"), SAME_ANSWERS)
def test_visible_test_and_grader_agree(assignment, function, body, passes):
    """Do the visible test cell and the grader both accept (or both reject) this answer?"""
    battery = load(assignment)
    namespace = _define(assignment, function, body)
    for test in battery.tests:
        if test.function != function:
            continue
        assert battery.run(test, namespace[function]).passed is passes, test.grade_id
        assert _visible_test_passes(assignment, test.grade_id, dict(namespace)) is passes


def test_missing_valueerror_check_gets_the_tests_message():
    """Without the class-index check, does the visible test say so (not numpy's IndexError)?"""
    entry = next(e for e in CATALOGUE if str(e) == "test_softmax_cross_entropy_stable-index")
    namespace = notebook_namespace(PS4)
    namespace["softmax_cross_entropy"] = answer(entry)
    cell = next(
        c for c in _cells(PS4) if _meta(c).get("grade_id") == "test_softmax_cross_entropy_stable"
    )
    with pytest.raises(AssertionError, match=r"must raise ValueError, not IndexError"):
        exec(compile(_source(cell).split(HIDDEN)[0], "visible", "exec"), namespace)
