"""Speed of the reference softmax cross-entropy against naive numpy and (if present) torch.

Times the loss alone and the fused loss-and-gradient (the training loop's hot path) on a
batch of integer labels, in float32 and float64 input, and prints the median of several
runs with the ratios. It never asserts: timings on a shared machine are noisy, and the
point is to see the ratios, not to gate a build on them.

Compared:

* ``autograder``: :func:`autograder.softmax_cross_entropy` and
  :func:`autograder.softmax_cross_entropy_value_and_grad` (always computing in float64);
* ``naive numpy``: the textbook max-shift version in the input's own dtype (no log1p, two
  passes of exponentials for value and gradient), the baseline a student writes;
* ``torch``: ``F.cross_entropy`` forward, and forward + backward, on one thread, only when
  ``import torch`` works (torch is not a dependency of the project).

Run::

    python benchmarks/reference.py            # 4096 × 1000, 7 repeats
    python benchmarks/reference.py --n 512 --c 100 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from autograder import softmax_cross_entropy, softmax_cross_entropy_value_and_grad


def naive_value(z: np.ndarray, y: np.ndarray):
    """Mean cross-entropy by the plain max shift, in z's dtype."""
    m = z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z - m).sum(axis=1)) + m[:, 0]
    return np.mean(lse - z[np.arange(z.shape[0]), y])


def naive_value_and_grad(z: np.ndarray, y: np.ndarray):
    """Loss and (softmax − onehot)/N the textbook way, exponentiating twice."""
    loss = naive_value(z, y)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(z.shape[0]), y] -= 1
    return loss, p / z.shape[0]


def median_ms(f: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``f()`` in milliseconds over ``repeat`` runs, after a warm-up."""
    f()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def torch_timers(z: np.ndarray, y: np.ndarray):
    """(forward, forward + backward) callables for torch on one thread, or None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    tz = torch.from_numpy(z.copy())
    ty = torch.from_numpy(y.astype(np.int64))
    tg = tz.clone().requires_grad_(True)

    def forward():
        with torch.no_grad():
            return torch.nn.functional.cross_entropy(tz, ty)

    def forward_backward():
        tg.grad = None
        loss = torch.nn.functional.cross_entropy(tg, ty)
        loss.backward()
        return loss, tg.grad

    return forward, forward_backward


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096, help="batch size (rows)")
    parser.add_argument("--c", type=int, default=1000, help="number of classes")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per cell")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    z64 = rng.normal(scale=3.0, size=(args.n, args.c))
    y = rng.integers(0, args.c, size=args.n)
    has_torch = torch_timers(z64[:2], y[:2]) is not None

    header = f"{'task':<16}{'dtype':<9}{'autograder':>12}{'naive':>10}{'ratio':>8}"
    if has_torch:
        header += f"{'torch(1t)':>11}{'ratio':>8}"
    print(
        f"softmax cross-entropy, {args.n} x {args.c}, integer labels, median of "
        f"{args.repeat} (ms); ratio = autograder / other"
    )
    print(header)
    print("-" * len(header))
    for dtype in (np.float32, np.float64):
        z = z64.astype(dtype)
        torch_fns = torch_timers(z, y) if has_torch else None
        cells = [
            ("value", lambda z=z: softmax_cross_entropy(z, y), lambda z=z: naive_value(z, y)),
            (
                "value+grad",
                lambda z=z: softmax_cross_entropy_value_and_grad(z, y),
                lambda z=z: naive_value_and_grad(z, y),
            ),
        ]
        for i, (task, ours, naive) in enumerate(cells):
            t_ours = median_ms(ours, args.repeat)
            t_naive = median_ms(naive, args.repeat)
            line = (
                f"{task:<16}{np.dtype(dtype).name:<9}{t_ours:>12.1f}{t_naive:>10.1f}"
                f"{t_ours / t_naive:>8.2f}"
            )
            if torch_fns is not None:
                t_torch = median_ms(torch_fns[i], args.repeat)
                line += f"{t_torch:>11.1f}{t_ours / t_torch:>8.2f}"
            print(line)
    if not has_torch:
        print("(torch is not importable: its columns are left out)")


if __name__ == "__main__":
    main()
