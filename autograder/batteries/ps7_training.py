"""Battery of ps7_training: softmax regression on scikit-learn's 8×8 digits.

One :class:`~autograder.batteries.core.Test` per test cell of
``solutions/ps7_training/ps7_training.ipynb`` (chapter: book/training.md):

- ``forward_backward(W, b, X, y) -> (loss, dW, db)``: compared with the chain rule
  through the reference :func:`autograder.softmax_cross_entropy_value_and_grad`
  (loss = mean CE of ``X @ W + b``; dW = Xᵀ G; db = Σ_n G_n), rtol = atol = 1e−7, by a
  custom ``compare`` that names the usual slip (gradients N times too large, a bias left
  out of the logits, a forgotten ``db``);
- ``predict(W, b, X)``: the argmax class, integers, compared exactly;
- ``train(X, y, num_classes)`` (the notebook's ``step=`` keyword, used for the MSE
  comparison, is never passed by the grader): a custom ``compare`` computes, in the grader, the
  accuracy of the returned ``(W, b)`` on held-out data the student's function never
  receives (``Case.expected = (X_eval, y_eval, threshold)``; only ``args`` cross into the
  sandbox). Threshold 0.90, set by measurement: the model solution (zero init, lr = 1,
  200 full-batch epochs, about 0.5 s) reaches 0.947 on the grader's digits split below
  (0.96 on the notebook's split); with lr = 0.5 and 100 epochs 0.933, with lr = 0.1 and
  200 epochs 0.918, so a correct loop with other reasonable settings still passes. A
  second data set (two features in [0, 1], class = x₀ > 0.7) needs a bias: the model
  solution reaches 0.99, the same loop without ``b`` 0.77.

The digits come from ``sklearn.datasets.load_digits`` (bundled with scikit-learn, no
download), loaded when this battery is first used, in the grader; the student's functions
receive plain arrays and never need scikit-learn (the sandbox does not have it).

>>> BATTERY.grade_ids
['test_forward_backward', 'test_predict', 'test_train']
"""

from __future__ import annotations

import numpy as np

from autograder.batteries.core import DEFAULT_FORBIDDEN, Battery, Case, Test

ASSIGNMENT = "ps7_training"

#: Minimum held-out accuracy of the weights ``train`` returns (see the module docstring).
ACCURACY_THRESHOLD = 0.90

MESSAGES = {
    "bias": (
        "wrong result when the bias matters: the logits are X @ W + b, and db is the column "
        "sum Σ_n G_n of G = (softmax − onehot) / N; train must update b as well as W"
    ),
    "reduction": (
        "wrong result for a different batch size: the loss is the mean over the N samples, "
        "so G = (softmax − onehot) / N and both gradients carry the 1/N"
    ),
    "accuracy": (
        "the weights returned by train classify held-out data poorly: start from zeros, "
        "step against the gradient (W -= lr·dW, b -= lr·db) for every epoch, and keep the "
        "default lr and epochs"
    ),
    "predict": "wrong class: take the argmax of X @ W + b along the class axis (axis=1)",
}


def _ref_forward_backward(W, b, X, y):
    """(mean CE, dW, db) through the reference loss: Z = XW + b, G = ∂L/∂Z, dW = XᵀG."""
    from autograder import softmax_cross_entropy_value_and_grad

    loss, g = softmax_cross_entropy_value_and_grad(X @ W + b, y)
    return loss, X.T @ g, np.sum(g, axis=0)


def _ref_predict(W, b, X):
    return np.argmax(X @ W + b, axis=1)


def _close(value, expected, rtol=1e-7, atol=1e-7) -> bool:
    return bool(np.all(np.abs(value - expected) <= atol + rtol * np.abs(expected)))


def _compare_forward_backward(value, expected, case) -> str | None:
    """Accept ``(loss, dW, db)`` within rtol = atol = 1e−7; else name the slip.

    The slips named: gradients N times too large (sum instead of mean), a summed loss,
    a bias left out of the logits, a wrong ``db`` alone, NaN from an unshifted exp.
    """
    loss_e, dW_e, db_e = (np.asarray(e, dtype=np.float64) for e in expected)
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        return "return a tuple (loss, dW, db)"
    loss, dW, db = value
    # ``value`` went through the judge's plain-data copy: a numpy scalar is a 0-d array there
    if type(loss) not in (float, int, np.float64):
        if type(loss) is not np.ndarray or loss.ndim != 0 or loss.dtype.kind not in "iuf":
            return "the loss must be a single number (a float), not an array"
    loss = np.float64(loss)
    for name, arr, ref in (("dW", dW, dW_e), ("db", db, db_e)):
        if type(arr) is not np.ndarray or arr.dtype != np.float64:
            return f"{name} must be a numpy array of float64"
        if arr.shape != ref.shape:
            # fixed wording: shapes of hidden inputs are not shown
            return f"{name} must have shape {name[1:]}.shape"
    if not (np.isfinite(loss) and np.all(np.isfinite(dW)) and np.all(np.isfinite(db))):
        # the case's category says why (overflow without the max shift, or log(softmax)
        # underflowing to log 0): the same symptom has two causes
        return "NaN or inf in the result"
    ok = [_close(loss, loss_e), _close(dW, dW_e), _close(db, db_e)]
    if all(ok):
        return None
    W, _, X, y = case.args
    n = len(y)
    if ok[0] and n > 1 and _close(dW, n * dW_e) and _close(db, n * db_e):
        return "the gradients are N times too large: divide G by N, as the loss is a mean"
    if n > 1 and _close(loss, n * loss_e):
        return "the loss is the sum over the N samples; it must be the mean"
    if not ok[0] and _close(loss, _ref_forward_backward(W, np.zeros_like(db_e), X, y)[0]):
        return "the loss ignores the bias: the logits are Z = X @ W + b"
    if ok[0] and ok[1]:
        return "db is wrong: db = Σ_n G_n, the column sums of G (was the bias forgotten?)"
    wrong = [name for name, good in zip(("loss", "dW", "db"), ok, strict=True) if not good]
    return f"wrong {', '.join(wrong)}"


def _diagnose_forward_backward(value, expected, case) -> str | None:
    """The misconception behind the slips :func:`_compare_forward_backward` names: a loss or
    gradients N times too large are a reduction slip, a loss without b or a wrong db alone
    a bias slip."""
    reason = _compare_forward_backward(value, expected, case) or ""
    if "N times too large" in reason or "the sum over the N samples" in reason:
        return "reduction"
    if "ignores the bias" in reason or reason.startswith("db is wrong"):
        return "bias"
    return None


def _diagnose_predict(value, expected, case) -> str | None:
    """ "bias" when the classes are those of X @ W alone (b left out of the logits)."""
    W, _, X = case.args
    without_b = np.argmax(X @ W, axis=1)
    value = np.asarray(value)
    if value.shape == without_b.shape and np.array_equal(value, without_b):
        return "bias"
    return None


def _diagnose_train(value, expected, case) -> str | None:
    """ "bias" when train returned a bias still at its zero start (b never updated)."""
    W, b = value
    if type(b) is np.ndarray and np.all(b == 0) and np.any(np.asarray(W) != 0):
        return "bias"
    return None


def _compare_accuracy(value, expected, case) -> str | None:
    """Accept ``(W, b)`` whose predictions on the held-out set reach the threshold."""
    X_eval, y_eval, threshold = expected
    num_classes = case.args[2]
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        return "train must return a tuple (W, b)"
    W, b = value
    for name, arr, shape, shown in (
        ("W", W, (X_eval.shape[1], num_classes), "(number of features, num_classes)"),
        ("b", b, (num_classes,), "(num_classes,)"),
    ):
        if type(arr) is not np.ndarray or arr.dtype != np.float64:
            return f"{name} must be a numpy array of float64"
        if arr.shape != shape:  # fixed wording: no shape of the hidden data is shown
            return f"{name} must have shape {shown}"
        if not np.all(np.isfinite(arr)):
            return f"{name} contains NaN or inf: is the learning rate or the gradient too large?"
    accuracy = float(np.mean(np.argmax(X_eval @ W + b, axis=1) == y_eval))
    if accuracy < threshold:  # the accuracy itself is a number about hidden data: not shown
        return f"held-out accuracy below the required {ACCURACY_THRESHOLD:.2f}"
    return None


def _digits():
    """The 1797 digits scaled to [0, 1], split 1347 / 450 with the grader's own seed."""
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    data = load_digits()
    X = data.data / 16.0
    y = data.target.astype(np.int64)
    order = np.random.default_rng(20260621).permutation(len(y))
    return X[order[:1347]], y[order[:1347]], X[order[1347:]], y[order[1347:]]


def _threshold_data(rng, n):
    """Two features in [0, 1]; class 1 where x₀ > 0.7: a boundary away from the origin."""
    X = rng.uniform(0.0, 1.0, size=(n, 2))
    return X, (X[:, 0] > 0.7).astype(np.int64)


def _blobs(seed=2):
    """The visible test's three Gaussian blobs (same seed and recipe as the notebook)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.2, 0.2], [0.8, 0.3], [0.5, 0.9]])
    labels = rng.integers(0, 3, size=300)
    points = centres[labels] + 0.08 * rng.normal(size=(300, 2))
    return points[:200], labels[:200], points[200:], labels[200:]


def _forward_backward_cases(X_digits, y_digits):
    rng = np.random.default_rng(7)
    W1, b1 = rng.normal(size=(4, 3)), rng.normal(size=3)
    X1, y1 = rng.normal(size=(5, 4)), np.array([0, 1, 2, 1, 0])
    Wd = 0.1 * rng.normal(size=(64, 10))
    bd = 0.1 * rng.normal(size=10)
    return [
        Case(
            (np.zeros((2, 3)), np.zeros(3), np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([0, 2])),
            category="value",
        ),
        Case((W1, b1, X1, y1), category="random"),
        Case((W1, np.array([5.0, -3.0, 0.5]), X1, y1), category="bias"),
        Case((np.zeros((4, 3)), np.array([2.0, 0.0, -1.0]), X1, y1), category="bias"),
        Case((W1, b1, X1[:1], y1[:1]), category="reduction"),
        # logits (1000, 999, 0) for class 0: overflow without the max shift, while
        # log(softmax) after the shift is exact (the label's probability does not underflow)
        Case(
            (np.array([[1000.0, 999.0, 0.0]]), np.zeros(3), np.ones((1, 1)), np.array([0])),
            category="overflow",
        ),
        # logits (0, -800) for class 1: nothing overflows, but log(softmax) underflows to
        # log 0 = -inf even after the max shift; the log-sum-exp form is exact
        Case(
            (np.array([[0.0, -800.0]]), np.zeros(2), np.ones((1, 1)), np.array([1])),
            category="large_gap",
        ),
        # large random weights: both slips fail here, after the two cases that tell them apart
        Case((W1 * 1000.0, b1, X1, y1), category="overflow"),
        Case((Wd, bd, X_digits[:100], y_digits[:100]), category="random"),
    ]


def _predict_cases(X_digits):
    rng = np.random.default_rng(8)
    W0 = np.array([[1.0, 0.0], [0.0, 1.0]])
    b0 = np.array([0.0, 0.5])
    return [
        Case((W0, b0, np.array([[2.0, 1.0], [1.0, 1.0], [0.0, 3.0]])), category="predict"),
        Case((rng.normal(size=(64, 10)), rng.normal(size=10), X_digits[:50]), category="predict"),
        Case(
            (np.zeros((3, 4)), np.array([0.0, 0.0, 0.0, 2.0]), rng.normal(size=(6, 3))),
            category="bias",
        ),
    ]


def _train_cases(X_tr, y_tr, X_te, y_te):
    rng = np.random.default_rng(9)
    X_bias, y_bias = _threshold_data(rng, 400)
    X_bias_eval, y_bias_eval = _threshold_data(rng, 400)
    Xb, yb, Xb_eval, yb_eval = _blobs()
    t = ACCURACY_THRESHOLD
    return [
        Case((Xb, yb, 3), category="accuracy", expected=(Xb_eval, yb_eval, t)),
        Case((X_tr, y_tr, 10), category="accuracy", expected=(X_te, y_te, t)),
        Case((X_bias, y_bias, 2), category="bias", expected=(X_bias_eval, y_bias_eval, t)),
    ]


def _battery() -> Battery:
    X_tr, y_tr, X_te, y_te = _digits()
    return Battery(
        assignment=ASSIGNMENT,
        tests=[
            Test(
                "test_forward_backward",
                "forward_backward",
                4,
                _forward_backward_cases(X_tr, y_tr),
                reference=_ref_forward_backward,
                compare=_compare_forward_backward,
                messages=MESSAGES,
                diagnose=_diagnose_forward_backward,
            ),
            Test(
                "test_predict",
                "predict",
                1,
                _predict_cases(X_tr),
                reference=_ref_predict,
                messages=MESSAGES,
                diagnose=_diagnose_predict,
            ),
            Test(
                "test_train",
                "train",
                4,
                _train_cases(X_tr, y_tr, X_te, y_te),
                compare=_compare_accuracy,
                messages=MESSAGES,
                diagnose=_diagnose_train,
            ),
        ],
        # numpy only; scikit-learn (in DEFAULT_FORBIDDEN) would train the model for them.
        forbidden_imports=(*DEFAULT_FORBIDDEN, "sympy"),
    )


BATTERY = _battery()
