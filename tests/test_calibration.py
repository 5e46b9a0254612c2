"""Tests for ``autograder.calibration``: reliability-diagram bins and the ECE.

Oracles: small cases computed by hand, a direct transcription of Guo et al.'s binning
loop, and properties (a perfectly calibrated synthetic model has ECE → 0, a model that
is always sure and always right has ECE 0, over-confidence raises it).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from autograder.calibration import calibration_bins, expected_calibration_error

RNG = np.random.default_rng(20261202)


def guo_loop(probs, target, n_bins):
    """ECE as in Guo et al.'s code: for each bin (lo, hi], |acc − conf| · share."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == target
    edges = np.linspace(0, 1, n_bins + 1)
    ece = 0.0
    for lo, hi in itertools.pairwise(edges):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return ece


def test_hand_checked_example():
    """Two samples in the upper of 2 bins: conf 0.75, accuracy 1/2, ECE 0.25?"""
    probs = [[0.9, 0.1], [0.6, 0.4]]
    assert expected_calibration_error(probs, [0, 1], n_bins=2) == 0.25
    _, count, acc, conf = calibration_bins(probs, [0, 1], n_bins=2)
    assert count.tolist() == [0, 2]
    assert acc[1] == 0.5 and conf[1] == 0.75
    assert np.isnan(acc[0]) and np.isnan(conf[0])


@pytest.mark.parametrize("n_bins", [1, 5, 15, 40])
def test_matches_guo_loop(n_bins):
    """Does it equal the transcribed loop over bins on random predictions?"""
    logits = RNG.normal(size=(500, 5)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    target = RNG.integers(0, 5, size=500)
    got = expected_calibration_error(probs, target, n_bins=n_bins)
    assert got == pytest.approx(guo_loop(probs, target, n_bins), rel=1e-12, abs=1e-15)


def test_confidence_on_an_edge_goes_to_the_lower_bin():
    """Is a confidence of exactly 0.5 with 2 bins in the first bin, (0, 0.5]?"""
    _, count, _, _ = calibration_bins([[0.5, 0.5], [1.0, 0.0]], [0, 0], n_bins=2)
    assert count.tolist() == [1, 1]


def test_always_sure_and_right_is_calibrated():
    """One-hot predictions that are all correct: ECE exactly 0?"""
    probs = np.eye(3)[[0, 1, 2, 1]]
    assert expected_calibration_error(probs, [0, 1, 2, 1]) == 0.0


def test_calibrated_synthetic_model_has_small_ece_and_sharpening_raises_it():
    """Labels drawn from the predicted probabilities give ECE ≈ 0; sharpening raises it."""
    n = 200_000
    conf = RNG.uniform(0.5, 1.0, size=n)
    probs = np.column_stack([conf, 1 - conf])
    target = (RNG.uniform(size=n) > conf).astype(int)  # class 0 with probability conf
    calibrated = expected_calibration_error(probs, target)
    sharp = probs**4 / (probs**4).sum(axis=1, keepdims=True)  # over-confident, same arg max
    assert calibrated < 0.01
    assert expected_calibration_error(sharp, target) > 0.1


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([0.5, 0.5], [0]), {}, "probs must have shape"),
        (([[0.5, 0.5]], [0.0]), {}, "target must hold integer class indices"),
        (([[0.5, 0.5]], [0, 1]), {}, "target must have shape"),
        (([[0.5, 0.5]], [2]), {}, "class indices in"),
        (([[0.5, 0.5]], [0]), {"n_bins": 0}, "n_bins must be a positive integer"),
        (([[0.5, 0.5]], [0]), {"n_bins": 2.5}, "n_bins must be a positive integer"),
        (([[1.5, 0.5]], [0]), {}, "probs must be probabilities"),
        (([[np.nan, 0.5]], [0]), {}, "probs must not contain NaN"),
    ],
)
def test_bad_arguments_raise(args, kwargs, match):
    """Is each bad argument a ValueError naming it?"""
    with pytest.raises(ValueError, match=match):
        expected_calibration_error(*args, **kwargs)
