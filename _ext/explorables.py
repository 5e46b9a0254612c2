"""Explorables: figures a reader can move, computed in the browser, served by the site.

A chapter adds one right after the static figure it extends::

    ```{explorable} softmax-temperature
    ```

The directive writes a ``<figure class="explorable">`` container holding a note for
readers without JavaScript (the static figure above stays the reference) and, where the
browser cannot recompute something cheaply, data prepared here at build time as JSON.
``_ext/static/explorables/explorables.js`` (plain JavaScript drawing SVG, no library)
then replaces the note with labelled native controls, the plot and a live text summary.
The script and its stylesheet are added only to pages that hold an explorable.

Why no plotting library: vega 5.30 + vega-lite 5.21 + vega-embed 6.26 weigh 823 KB
minified (276 KB gzipped) on every page with a figure, and the fits these figures need
(gradient descent on a neuron, IRLS for Huber and L1, a regularised logistic regression)
would still be JavaScript. The hand-written script is about 30 KB for all six figures.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
from docutils import nodes
from docutils.parsers.rst import Directive
from scipy.optimize import minimize
from scipy.special import xlogy

STATIC = Path(__file__).parent / "static"


def kl_fits() -> dict:
    """Best single Gaussian for a two-peaked target under forward and reverse KL.

    The target is the chapter's (``book/kl_divergence.md``): two discretised Gaussians of
    width 0.6 at ±s/2, mixed half and half, on a grid of step 0.05; the grid spans
    [-8, 8] rather than the chapter's [-5, 5] so that at s = 6 the forward fit is not
    cut off by the ends of the grid (there it would widen without bound). For every
    separation ``s`` in 0, 0.25, …, 6 both divergences are minimised over (μ, σ) by a
    grid search (the chapter's grid) refined with Nelder–Mead. The reverse divergence has
    two mirror-image minima for a symmetric target; the one with μ ≥ 0 is kept.

    Returns
    -------
    dict
        ``{"x": [lo, hi, n], "width": 0.6, "fits": [{"s", "fwd": [μ, σ, KL],
        "rev": [μ, σ, KL]}, ...]}``; KL in nats.
    """
    x = np.linspace(-8.0, 8.0, 321)

    def gaussian(mu, sigma):
        w = np.exp(-0.5 * ((x - mu) / sigma) ** 2)
        return w / w.sum()

    def kl(p, q):
        # xlogy gives 0 * log 0 = 0; a q of exactly 0 under p > 0 is +inf, as it should be.
        with np.errstate(divide="ignore"):
            return float(np.sum(xlogy(p, p) - xlogy(p, q)))

    grid = [(m, s) for m in np.linspace(-3, 3, 61) for s in np.linspace(0.3, 4, 75)]

    def best_fit(div, candidates):
        """(μ, σ, divergence) minimising div(gaussian(μ, σ)): grid, then Nelder–Mead."""
        start = min(candidates, key=lambda ms: div(gaussian(*ms)))
        best = minimize(
            lambda v: div(gaussian(v[0], abs(v[1]) + 1e-3)),
            start,
            method="Nelder-Mead",
            options={"xatol": 1e-4, "fatol": 1e-10},
        )
        mu, sigma = float(best.x[0]), float(abs(best.x[1]) + 1e-3)
        # + 0.0 turns the -0.0 of a symmetric fit into 0.0.
        return [round(mu, 4) + 0.0, round(sigma, 4), round(float(best.fun), 5)]

    fits = []
    for sep in np.arange(0.0, 6.01, 0.25):
        target = 0.5 * (gaussian(-sep / 2, 0.6) + gaussian(sep / 2, 0.6))
        fits.append(
            {
                "s": float(sep),
                "fwd": best_fit(lambda q, t=target: kl(t, q), grid),
                "rev": best_fit(lambda q, t=target: kl(q, t), [g for g in grid if g[0] >= 0]),
            }
        )
    return {"x": [-8.0, 8.0, 321], "width": 0.6, "fits": fits}


def outlier_points() -> dict:
    """The 40 points of ``book/regression_losses.md`` (same recipe and seed) with outliers.

    Returns
    -------
    dict
        ``{"x": [...], "y": [...], "outlier": [bool, ...]}``, 40 entries each.
    """
    rng = np.random.default_rng(1)
    x = rng.uniform(0.0, 1.0, 40)
    y = 3.0 * x + 1.0 + rng.normal(0.0, 0.2, 40)
    outliers = np.argsort(x)[-8:][::2]
    y[outliers] -= rng.uniform(4.0, 6.0, len(outliers))
    flags = np.zeros(40, dtype=bool)
    flags[outliers] = True
    return {
        "x": [round(float(v), 5) for v in x],
        "y": [round(float(v), 5) for v in y],
        "outlier": flags.tolist(),
    }


def separable_points() -> dict:
    """Two linearly separable clouds of 20 points each in the plane, labels 0 and 1.

    Drawn from N((-1, -0.5), 0.6² I) and N((1, 0.7), 0.6² I) with seed 12 and kept only
    if a line separates them (checked here with a hard-margin-like perceptron run), so
    that without a penalty the logistic-regression weights grow without bound.

    Returns
    -------
    dict
        ``{"x1": [...], "x2": [...], "label": [0 or 1, ...]}``.
    """
    rng = np.random.default_rng(12)
    a = rng.normal([-1.0, -0.5], 0.6, size=(20, 2))
    b = rng.normal([1.0, 0.7], 0.6, size=(20, 2))
    X = np.vstack([a, b])
    y = np.r_[np.zeros(20), np.ones(20)]
    # Perceptron: converges in finitely many updates exactly when the data are separable.
    Xb, signs, w = np.c_[X, np.ones(40)], 2 * y - 1, np.zeros(3)
    for _ in range(10_000):
        wrong = np.flatnonzero(signs * (Xb @ w) <= 0)
        if wrong.size == 0:
            break
        w += signs[wrong[0]] * Xb[wrong[0]]
    else:
        raise RuntimeError("separable_points: the two clouds are not linearly separable")
    return {
        "x1": [round(float(v), 4) for v in X[:, 0]],
        "x2": [round(float(v), 4) for v in X[:, 1]],
        "label": [int(v) for v in y],
    }


#: Each explorable: its title, and the function preparing its data (None: computed in JS).
EXPLORABLES = {
    "softmax-temperature": ("Try it: softmax with a temperature", None),
    "saturated-neuron": ("Try it: race the quadratic cost against cross-entropy", None),
    "kl-forward-reverse": ("Try it: pull the two peaks apart", kl_fits),
    "bce-clipping": ("Try it: binary cross-entropy with clipping", None),
    "regression-outliers": ("Try it: the outlier fit as δ changes", outlier_points),
    "logistic-boundary": ("Try it: weight decay on separable points", separable_points),
}

NO_SCRIPT_NOTE = (
    "This interactive version of the figure above runs in your browser and needs "
    "JavaScript; without it, the static figure above shows the same idea."
)


class ExplorableDirective(Directive):
    """``{explorable} NAME``: the container of one explorable figure (HTML only)."""

    required_arguments = 1
    has_content = False

    def run(self):
        name = self.arguments[0]
        if name not in EXPLORABLES:
            known = ", ".join(sorted(EXPLORABLES))
            raise self.error(f"unknown explorable {name!r}; known: {known}")
        title, prepare = EXPLORABLES[name]
        data = ""
        if prepare is not None:
            # "</" cannot end the script element early: JSON of numbers and names has none,
            # but escape it anyway so a future string value cannot break the page.
            payload = json.dumps(prepare(), separators=(",", ":")).replace("</", "<\\/")
            data = f'<script type="application/json" class="explorable-data">{payload}</script>'
        markup = (
            f'<figure class="explorable" id="explorable-{name}" data-explorable="{name}">'
            f'<p class="explorable-title">{html.escape(title)}</p>{data}'
            f'<p class="explorable-fallback">{html.escape(NO_SCRIPT_NOTE)}</p></figure>'
        )
        return [nodes.raw("", markup, format="html")]


def _has_explorable(doctree) -> bool:
    return doctree is not None and any(
        "data-explorable=" in node.astext() for node in doctree.findall(nodes.raw)
    )


def _add_assets(app, pagename, templatename, context, doctree):
    # Inside html-page-context, add_js_file/add_css_file affect this page only.
    if _has_explorable(doctree):
        app.add_css_file("explorables/explorables.css")
        app.add_js_file("explorables/explorables.js", defer="defer")


def _serve_static(app, config):
    # Served as _static/explorables/…; a folder of its own, outside the book's _static/.
    if str(STATIC) not in config.html_static_path:
        config.html_static_path.append(str(STATIC))


def setup(app):
    app.add_directive("explorable", ExplorableDirective)
    app.connect("config-inited", _serve_static)
    app.connect("html-page-context", _add_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
