"""The ps7_training battery: the reference chain rule, the slip-naming compare, the threshold.

The reference ``(loss, dW, db)`` is checked against mpmath (loss at 30 digits, gradients
by mpmath's numerical differentiation); the accuracy threshold of ``train`` against an
independent solver (scikit-learn's LogisticRegression) on the very split the grader uses.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from autograder.batteries import load
from autograder.batteries.ps7_training import (
    ACCURACY_THRESHOLD,
    _compare_accuracy,
    _compare_forward_backward,
    _digits,
    _ref_forward_backward,
)

BATTERY = load("ps7_training")
mpmath.mp.dps = 30


def _mp_loss(W, b, X, y):
    """Mean cross-entropy of X @ W + b at 30 digits, from its definition."""
    total = mpmath.mpf(0)
    for x_n, y_n in zip(X, y, strict=True):
        z = [
            mpmath.fsum(mpmath.mpf(float(x)) * w for x, w in zip(x_n, col, strict=True)) + bc
            for col, bc in zip(zip(*W, strict=True), b, strict=True)
        ]
        total += mpmath.log(mpmath.fsum(mpmath.exp(v) for v in z)) - z[y_n]
    return total / len(y)


def _mp_parameters(W, b):
    return [[mpmath.mpf(float(v)) for v in row] for row in W], [mpmath.mpf(float(v)) for v in b]


def test_reference_forward_backward_matches_mpmath():
    """Are the reference loss and gradients the true ones (mpmath, 1e-12 relative)?"""
    rng = np.random.default_rng(3)
    W, b = rng.normal(size=(3, 4)), rng.normal(size=4)
    X, y = rng.normal(size=(5, 3)), np.array([0, 3, 1, 1, 2])
    loss, dW, db = _ref_forward_backward(W, b, X, y)
    Wm, bm = _mp_parameters(W, b)
    assert loss == pytest.approx(float(_mp_loss(Wm, bm, X, y)), rel=1e-14)
    for i in range(3):
        for j in range(4):

            def along_w(t, i=i, j=j):
                W2 = [row[:] for row in Wm]
                W2[i][j] = t
                return _mp_loss(W2, bm, X, y)

            assert dW[i, j] == pytest.approx(float(mpmath.diff(along_w, Wm[i][j])), rel=1e-12)
    for j in range(4):

        def along_b(t, j=j):
            return _mp_loss(Wm, [t if k == j else v for k, v in enumerate(bm)], X, y)

        assert db[j] == pytest.approx(float(mpmath.diff(along_b, bm[j])), rel=1e-12)


@pytest.fixture(scope="module")
def case_and_expected():
    test = BATTERY.test("test_forward_backward")
    case = next(c for c in test.cases if c.category == "random")
    return case, BATTERY.expected(test, case)


def test_compare_forward_backward_accepts_the_answer_in_any_plain_form(case_and_expected):
    """Is the answer accepted as a tuple or a list, with the loss a float or a 0-d array?"""
    case, (loss, dW, db) = case_and_expected
    assert _compare_forward_backward((float(loss), dW, db), (loss, dW, db), case) is None
    assert _compare_forward_backward([np.array(loss), dW, db], (loss, dW, db), case) is None


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda n, loss, dW, db: (loss, n * dW, n * db), "N times too large"),
        (lambda n, loss, dW, db: (n * loss, n * dW, n * db), "sum over the N samples"),
        (lambda n, loss, dW, db: (loss, dW, np.zeros_like(db)), "was the bias forgotten"),
        (lambda n, loss, dW, db: (loss, dW.T.copy(), db), "must have shape"),
        (lambda n, loss, dW, db: (loss, dW.astype(np.float32), db), "float64"),
        (lambda n, loss, dW, db: (loss, dW, db * np.nan), "NaN or inf"),
        (lambda n, loss, dW, db: (np.array([loss]), dW, db), "single number"),
        (lambda n, loss, dW, db: (loss, dW), "tuple (loss, dW, db)"),
        (lambda n, loss, dW, db: (loss + 1.0, dW + 1.0, db), "wrong loss, dW"),
    ],
)
def test_compare_forward_backward_names_the_slip(case_and_expected, mutate, fragment):
    """Does each typical slip get rejected with a reason that names it?"""
    case, expected = case_and_expected
    n = len(case.args[3])
    reason = _compare_forward_backward(mutate(n, *expected), expected, case)
    assert reason is not None and fragment in reason, reason


def test_a_bias_free_loss_is_recognised():
    """Is a loss computed without b (the bias left out of the logits) named as such?"""
    test = BATTERY.test("test_forward_backward")
    case = next(c for c in test.cases if c.category == "bias")
    W, b, X, y = case.args
    expected = BATTERY.expected(test, case)
    wrong = _ref_forward_backward(W, np.zeros_like(b), X, y)
    assert "ignores the bias" in _compare_forward_backward(wrong, expected, case)


def test_digits_split_is_disjoint_and_covers_every_class():
    """Is the grader's split 1347 / 450 digits, disjoint, with all 10 classes on both sides?"""
    X_tr, y_tr, X_te, y_te = _digits()
    assert X_tr.shape == (1347, 64) and X_te.shape == (450, 64)
    assert 0.0 <= X_tr.min() and X_tr.max() <= 1.0
    assert set(y_tr) == set(y_te) == set(range(10))
    train_rows = {row.tobytes() for row in X_tr}
    overlap = sum(row.tobytes() in train_rows for row in X_te)
    assert overlap <= 5  # only images that are pixel-identical duplicates in the data set


def test_threshold_is_reachable_by_an_independent_solver():
    """Does scikit-learn's LogisticRegression clear the 0.90 threshold on every train case?"""
    from sklearn.linear_model import LogisticRegression

    test = BATTERY.test("test_train")
    for case in test.cases:
        X, y, num_classes = case.args
        threshold = case.expected[2]
        model = LogisticRegression(max_iter=2000).fit(X, y)
        W, b = model.coef_.T.copy(), model.intercept_.copy()
        if num_classes == 2:  # binary: sklearn keeps one column; class 1 wins where z > 0
            W, b = np.hstack([np.zeros_like(W), W]), np.array([0.0, b[0]])
        assert threshold == ACCURACY_THRESHOLD
        assert _compare_accuracy((W, b), case.expected, case) is None, case.category


def test_compare_accuracy_rejects_useless_and_malformed_weights():
    """Are zero weights, wrong shapes, float32, NaN and a missing b rejected with a reason?"""
    test = BATTERY.test("test_train")
    case = next(c for c in test.cases if c.args[2] == 10)
    X_eval = case.expected[0]
    W, b = np.zeros((X_eval.shape[1], 10)), np.zeros(10)
    assert "below the required 0.90" in _compare_accuracy((W, b), case.expected, case)
    assert "shape" in _compare_accuracy((W.T, b), case.expected, case)
    assert "float64" in _compare_accuracy((W.astype(np.float32), b), case.expected, case)
    assert "NaN" in _compare_accuracy((W * np.nan, b), case.expected, case)
    assert "tuple (W, b)" in _compare_accuracy((W,), case.expected, case)


def test_held_out_data_never_reaches_the_student():
    """Do the train cases pass only (X, y, num_classes), keeping the held-out set in the grader?"""
    for case in BATTERY.test("test_train").cases:
        assert len(case.args) == 3 and not case.kwargs
        X_eval = case.expected[0]
        assert not any(np.shares_memory(X_eval, a) for a in case.args[:2])
