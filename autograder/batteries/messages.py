"""Feedback messages keyed by a case's ``category``: one misconception, one message.

A case's category names what the case probes (``"overflow"``, ``"base"``, ``"axis"`` …);
when the case fails, the student reads the message for that category, never the case's
inputs. A battery or a single ``Test`` may override or add categories through its own
``messages`` mapping; these are the shared defaults.
"""

from __future__ import annotations

DEFAULT_MESSAGES: dict[str, str] = {
    "value": "wrong value on a small hand-checkable input: re-derive the formula",
    "random": "wrong value on random inputs: re-check the formula against the chapter",
    "base": (
        "wrong result with the `base` option: log_b(x) = ln(x) / ln(b); the default "
        "(base=None) is the natural log, not log2 or log10"
    ),
    "zero_prob": (
        "wrong result when some probabilities are 0: by convention 0·log 0 = 0, so a zero "
        "probability contributes nothing (and must not produce NaN)"
    ),
    "zero_q": (
        "wrong result when q = 0 where p > 0: the true answer is +inf; do not clip or add "
        "a small epsilon to q"
    ),
    "unnormalised": (
        "wrong result for an input that does not sum to 1: apply the formula to the "
        "numbers as given, do not renormalise them"
    ),
    "axis": (
        "wrong result with the `axis` option or on a batch: reduce over the requested "
        "axis only (the default is the last axis, axis=-1) and keep the other axes"
    ),
    "batch": (
        "wrong result on a batch (2-D input): treat every row independently and keep the "
        "batch shape"
    ),
    "overflow": (
        "overflow or NaN for large inputs (e.g. logits near ±1000): exp overflows past "
        "about 709; subtract the maximum (the max shift) before exponentiating, or use a "
        "formula that never exponentiates a large positive number"
    ),
    "large_gap": (
        "wrong result when one logit is far above the others: log(softmax(z)) underflows "
        "to log(0) = -inf; compute z − max(z) − log Σ exp(z − max(z)) directly"
    ),
    "underflow": (
        "wrong result far in the tail (e.g. z = -1000): log(σ(z)) underflows to log(0); "
        "use log σ(z) = −softplus(−z) = min(z, 0) − log1p(exp(−|z|))"
    ),
    "masked": (
        "wrong result for a -inf entry (a masked logit): its probability must be exactly "
        "0 and the other entries must stay finite"
    ),
    "reduction": (
        "wrong result for the `reduction` option: 'mean' averages over the samples, 'sum' "
        "adds them, 'none' returns one loss per sample (same shape as the batch)"
    ),
    "clamp": (
        "wrong result when a probability is exactly 0 or 1: PyTorch clamps each log term "
        "at -100, so one confident mistake costs 100, not inf (np.maximum(np.log(p), -100))"
    ),
    "raises": "the function must raise the requested exception for invalid input",
    "shape": "wrong output shape: check which axes you reduce and what you return",
    "sign": "your result has the wrong sign everywhere: check the minus sign of the formula",
    "symmetry": "wrong result on a property the answer must satisfy (e.g. symmetry)",
    "identity": "wrong result on an identity the answer must satisfy",
}

#: Shown for an exception in a stub that was never filled in.
NOT_IMPLEMENTED = "not implemented yet: replace `raise NotImplementedError()` with your code"

#: Failures that are not a case's misconception but how the function failed, as the
#: instructor's report names them (``Verdict.categories``; the student reads the detail).
OUTCOME_CATEGORIES: dict[str, str] = {
    "type": "returned the wrong type: not a float64 numpy array (or a plain number)",
    "dtype": "returned an array of the wrong dtype (float32, integers or objects)",
    "not_implemented": NOT_IMPLEMENTED,
    "raised": "the function raised an exception on valid input",
    "did_not_finish": "the function did not finish (an endless loop, too slow, or a crash)",
    "sympy_symbols": (
        "the SymPy answer could not be evaluated: it is not an expression in the named "
        "symbols (a stray symbol, or a numpy value)"
    ),
    "forbidden": "the function uses a library the assignment does not allow",
}
