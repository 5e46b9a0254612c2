"""The explorables (``_ext/explorables.py``): placed, operable by keyboard, right, degrading.

Each explorable must sit right after the static figure it extends, move its plot and its
text summary when any of its controls is moved with the keyboard, compute what the
chapter computes (checked against independent Python: numpy, scipy, the chapter's own
printed output), leave a note and the static figure when JavaScript is off, and print as
the static figure only. The build-time data are checked against their own oracles.
"""

from __future__ import annotations

import importlib.util
import io
import math
import re

import numpy as np
import pytest
from scipy.optimize import linprog, minimize

from ._site import REPO, article, site_dir, soup
from .test_browser import Visit  # the browser fixture is tests/conftest.py's

pytestmark = [pytest.mark.book]

# Where each explorable lives: the chapter of the static figure it extends.
CHAPTER = {
    "softmax-temperature": "book/sigmoid_softmax",
    "saturated-neuron": "book/cross_entropy_meets_softmax",
    "kl-forward-reverse": "book/kl_divergence",
    "bce-clipping": "book/cross_entropy",
    "regression-outliers": "book/regression_losses",
    "logistic-boundary": "book/training",
}


def _extension():
    spec = importlib.util.spec_from_file_location("explorables", REPO / "_ext" / "explorables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXT = _extension()


def numbers(text: str) -> list[float]:
    """Every decimal number in ``text`` (the status uses a true minus sign)."""
    return [float(v) for v in re.findall(r"-?\d+\.\d+", text.replace("\u2212", "-"))]


# ----------------------------------------------------------------------- the HTML


def test_every_explorable_has_a_chapter():
    """Is every explorable the extension defines placed on a chapter, and no other?"""
    assert set(CHAPTER) == set(EXT.EXPLORABLES)


@pytest.mark.parametrize("name", sorted(CHAPTER))
def test_explorable_follows_its_static_figure(site, name):
    """Does the explorable's container come right after the cell holding its figure?"""
    page = article(soup(site / f"{CHAPTER[name]}.html"))
    figure = page.select_one(f"figure.explorable#explorable-{name}")
    assert figure is not None, f"no explorable {name} on {CHAPTER[name]}"
    previous = figure.find_previous_sibling()
    assert previous is not None and previous.find("img") is not None, (
        f"{name}: the element before the explorable holds no static figure"
    )
    assert figure.select_one(".explorable-fallback").get_text(strip=True)


def test_scripts_only_on_pages_with_explorables(site):
    """Do pages without an explorable load neither its script nor its stylesheet?"""
    for path in site_dir().rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        has_figure = "data-explorable=" in text
        assert has_figure == ("explorables/explorables.js" in text), path.name
        assert has_figure == ("explorables/explorables.css" in text), path.name


# ------------------------------------------------------------------- in a browser


@pytest.fixture
def explorable(browser, server):
    """Open an explorable's chapter; yield (visit, page, figure locator)."""
    visits = []

    def opener(name: str):
        v = Visit(browser, server)
        visits.append(v)
        page = v.open(f"{CHAPTER[name]}.html")
        page.wait_for_function("document.documentElement.dataset.explorablesReady")
        return v, page, page.locator(f"#explorable-{name}")

    yield opener
    for v in visits:
        v.close()


def state(figure) -> tuple[str, str]:
    """What the reader sees: the plot's SVG markup and the status sentence."""
    return (
        figure.locator("svg.explorable-plot").inner_html(),
        figure.locator(".explorable-status").text_content(),
    )


@pytest.mark.browser
@pytest.mark.parametrize("name", sorted(CHAPTER))
def test_every_control_moves_the_figure_by_keyboard(explorable, name):
    """Does each control, focused and moved with an arrow key, change plot and text?"""
    v, page, figure = explorable(name)
    controls = figure.locator("input[type=range], select")
    assert controls.count() >= 1
    for i in range(controls.count()):
        control = controls.nth(i)
        before = state(figure)
        control.focus()
        # One step up, or one step down for a control already at its last value.
        at_end = control.evaluate(
            """c => c.type === "range" ? c.value === c.max
                                       : c.selectedIndex === c.options.length - 1"""
        )
        is_range = control.get_attribute("type") == "range"
        up, down = ("ArrowRight", "ArrowLeft") if is_range else ("ArrowDown", "ArrowUp")
        page.keyboard.press(down if at_end else up)
        after = state(figure)
        label = control.evaluate("c => c.labels[0].textContent")
        assert after[0] != before[0], f"{name}: the plot did not change ({label})"
        assert after[1] != before[1], f"{name}: the status text did not change ({label})"
    assert not v.problems, "; ".join(v.problems)


@pytest.mark.browser
@pytest.mark.parametrize("name", sorted(CHAPTER))
def test_controls_and_plot_are_labelled(explorable, name):
    """Has every control a visible label, every range a spoken value, the plot a text?"""
    _, _, figure = explorable(name)
    report = figure.evaluate(
        """f => ({
        labels: Array.from(f.querySelectorAll("input, select"))
            .map(c => c.labels.length ? c.labels[0].textContent.trim() : ""),
        valuetexts: Array.from(f.querySelectorAll("input[type=range]"))
            .map(c => c.getAttribute("aria-valuetext") || ""),
        role: f.querySelector("svg").getAttribute("role"),
        describedBy: f.querySelector("svg").getAttribute("aria-describedby"),
        live: f.querySelector(".explorable-status").getAttribute("aria-live"),
        statusId: f.querySelector(".explorable-status").id,
    })"""
    )
    assert all(report["labels"]), f"{name}: a control without a label: {report['labels']}"
    assert all(report["valuetexts"]), f"{name}: a range without aria-valuetext"
    assert report["role"] == "img"
    assert report["describedBy"] == report["statusId"]
    assert report["live"] == "polite"


@pytest.mark.browser
@pytest.mark.parametrize("name", sorted(CHAPTER))
def test_without_javascript_the_note_and_static_figure_remain(browser, server, name):
    """With JavaScript off, does the container show its note beside the static figure?"""
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{server}/{CHAPTER[name]}.html")
        figure = page.locator(f"#explorable-{name}")
        assert figure.locator(".explorable-fallback").is_visible()
        assert figure.locator("input, select, svg").count() == 0
        static = page.locator(f"#explorable-{name} >> xpath=preceding-sibling::*[1]//img")
        assert static.first.is_visible()
    finally:
        context.close()


@pytest.mark.browser
def test_print_shows_the_static_figure_only(explorable):
    """In print, is the explorable hidden and the static figure before it shown?"""
    _, page, figure = explorable("softmax-temperature")
    page.emulate_media(media="print")
    assert not figure.is_visible()
    static = page.locator("#explorable-softmax-temperature >> xpath=preceding-sibling::*[1]//img")
    assert static.first.is_visible()


def press(page, figure, label: str, key: str = "ArrowRight", times: int = 1) -> str:
    """Focus the control labelled ``label``, press ``key``; return the new status."""
    figure.get_by_label(label, exact=False).first.focus()
    for _ in range(times):
        page.keyboard.press(key)
    return figure.locator(".explorable-status").text_content()


@pytest.mark.browser
def test_softmax_matches_numpy(explorable):
    """Are the probabilities and entropy shown at T = 2^(1/4) those numpy computes?"""
    _, page, figure = explorable("softmax-temperature")
    status = press(page, figure, "Temperature")
    temperature, *rest = numbers(status)
    assert temperature == pytest.approx(2**0.25, abs=0.005)
    z = np.array([3.0, 1.0, 0.2, -1.0]) / 2**0.25
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    entropy = -np.sum(p * np.log(p))
    shown_p, shown_h = rest[4:8], rest[8]
    np.testing.assert_allclose(shown_p, p, atol=5e-4)
    assert shown_h == pytest.approx(entropy, abs=5e-4)


@pytest.mark.browser
def test_saturated_neuron_matches_the_chapter(site, explorable):
    """At the chapter's start (w = b = 2, η = 0.15), are the outputs after 300 steps the
    ones the chapter's own Python run printed?"""
    text = article(soup(site / "book/cross_entropy_meets_softmax.html")).get_text()
    found = re.search(r"after 300 steps: quadratic a = ([\d.]+), cross-entropy a = ([\d.]+)", text)
    assert found, "the chapter no longer prints its outputs after 300 steps"
    _, _, figure = explorable("saturated-neuron")
    status = figure.locator(".explorable-status").text_content()
    after = re.search(r"output is ([\d.]+) with the quadratic cost and ([\d.]+)", status)
    assert after.groups() == found.groups()


@pytest.mark.browser
def test_kl_status_shows_the_build_time_fits(explorable):
    """Does the KL status show, for peaks 4.25 apart, the fits prepared at build time?"""
    _, page, figure = explorable("kl-forward-reverse")
    status = press(page, figure, "Distance between the peaks")
    fit = next(f for f in EXT.kl_fits()["fits"] if f["s"] == 4.25)
    half, *values = numbers(status)
    assert half == pytest.approx(2.125, abs=0.006)
    np.testing.assert_allclose(values, fit["fwd"][:2] + [fit["fwd"][2]] + fit["rev"], atol=6e-3)


@pytest.mark.browser
def test_bce_clipping_values(explorable):
    """With label 1, ε = 0.1 and p = 0.06, is the loss exact -ln 0.06, clipped -ln 0.1,
    and the clipped gradient 0?"""
    _, page, figure = explorable("bce-clipping")
    status = press(page, figure, "Predicted probability")
    p, exact, clipped, grad = numbers(status)[:4]
    assert p == 0.06
    assert exact == pytest.approx(-math.log(0.06), abs=5e-4)
    assert clipped == pytest.approx(-math.log(0.1), abs=5e-4)
    assert grad == pytest.approx(0.06 - 1)
    assert "clipped 0 (the clip is active" in status
    status = press(page, figure, "Clipping", key="ArrowUp", times=4)  # back to "none"
    assert "none" in figure.locator("select").nth(1).evaluate("s => s.selectedOptions[0].text")
    assert numbers(status)[1] == numbers(status)[2]  # no clip: clipped equals exact


@pytest.mark.browser
def test_regression_fits_match_scipy(explorable):
    """At δ = 0.55, are the L2 line numpy's least squares and the Huber line scipy's
    minimiser of the Huber loss?"""
    _, page, figure = explorable("regression-outliers")
    status = press(page, figure, "Huber")
    delta, s_l2, s_l1, s_huber, b_l2, b_l1, b_huber = numbers(status)[:7]
    assert delta == 0.55
    data = EXT.outlier_points()
    x, y = np.array(data["x"]), np.array(data["y"])
    slope, intercept = np.polyfit(x, y, 1)
    assert (s_l2, b_l2) == pytest.approx((slope, intercept), abs=6e-3)

    def huber(theta):
        r = np.abs(y - theta[0] * x - theta[1])
        return np.sum(np.where(r < delta, 0.5 * r**2, delta * (r - 0.5 * delta)))

    best = minimize(huber, [3.0, 1.0], method="Nelder-Mead", options={"xatol": 1e-8}).x
    assert (s_huber, b_huber) == pytest.approx(tuple(best), abs=6e-3)
    l1 = minimize(lambda t: np.sum(np.abs(y - t[0] * x - t[1])), [3.0, 1.0], method="Powell")
    assert np.sum(np.abs(y - s_l1 * x - b_l1)) <= l1.fun + 0.05  # L1 minima can be flat


@pytest.mark.browser
def test_logistic_boundary_matches_scipy(explorable):
    """At λ = 0.03, are the weights shown scipy's minimiser of mean CE + λ/2 |w|²?"""
    _, page, figure = explorable("logistic-boundary")
    status = press(page, figure, "Weight decay")
    lam, w1, w2, b, norm = numbers(status)[:5]
    assert lam == 0.03
    data = EXT.separable_points()
    X, t = np.c_[data["x1"], data["x2"]], np.array(data["label"])

    def objective(theta):
        margins = (2 * t - 1) * (X @ theta[:2] + theta[2])
        return np.mean(np.logaddexp(0.0, -margins)) + 0.5 * lam * theta[:2] @ theta[:2]

    best = minimize(objective, np.zeros(3), method="BFGS", options={"gtol": 1e-10}).x
    assert (w1, w2, b) == pytest.approx(tuple(best), abs=6e-3)
    assert norm == pytest.approx(np.hypot(*best[:2]), abs=6e-3)


@pytest.mark.browser
def test_logistic_without_penalty_says_no_minimiser(explorable):
    """At λ = 0 on separable points, does the text say the weights are still growing?"""
    _, page, figure = explorable("logistic-boundary")
    status = press(page, figure, "Weight decay", key="Home")
    assert status.startswith("Weight decay \u03bb = 0:")
    assert "still growing" in status and "no minimiser" in status


# ------------------------------------------------------------- build-time data


def test_forward_kl_fit_matches_the_moments():
    """Does each forward-KL fit match the target's mean and variance on the grid?

    Discretised Gaussians on a fixed grid form an exponential family with statistics
    x and x², so minimising KL(p‖q) over it matches those two moments of p.
    """
    data = EXT.kl_fits()
    x = np.linspace(*data["x"][:2], data["x"][2])

    def gaussian(mu, sigma):
        w = np.exp(-0.5 * ((x - mu) / sigma) ** 2)
        return w / w.sum()

    for fit in data["fits"]:
        s = fit["s"]
        p = 0.5 * (gaussian(-s / 2, data["width"]) + gaussian(s / 2, data["width"]))
        q = gaussian(*fit["fwd"][:2])
        assert q @ x == pytest.approx(p @ x, abs=1e-3)
        assert q @ x**2 == pytest.approx(p @ x**2, rel=1e-3)


def test_reverse_kl_fit_picks_one_peak_when_far_apart():
    """Once the peaks are far apart, does the reverse fit sit on one of them, with the
    peak's own width and a divergence near ln 2?"""
    for fit in EXT.kl_fits()["fits"]:
        if fit["s"] >= 5:
            mu, sigma, div = fit["rev"]
            assert mu == pytest.approx(fit["s"] / 2, abs=0.01)
            assert sigma == pytest.approx(0.6, abs=0.01)
            assert div == pytest.approx(math.log(2), abs=2e-3)


def test_separable_points_are_separable():
    """Is there a line with margin 1 between the two classes (a feasible LP)?"""
    data = EXT.separable_points()
    X, t = np.c_[data["x1"], data["x2"], np.ones(40)], 2 * np.array(data["label"]) - 1
    result = linprog(np.zeros(3), A_ub=-(t[:, None] * X), b_ub=-np.ones(40), bounds=(None, None))
    assert result.status == 0, result.message


def test_outlier_points_follow_the_chapter_recipe():
    """Are there 40 points, four outliers among the eight largest x, all below the line?"""
    data = EXT.outlier_points()
    x, y, out = (np.array(data[k]) for k in ("x", "y", "outlier"))
    assert len(x) == 40 and out.sum() == 4
    assert set(np.flatnonzero(out)) <= set(np.argsort(x)[-8:])
    assert np.all(y[out] < 3 * x[out] + 1 - 3.5)


def test_unknown_explorable_is_a_clear_error():
    """Does the directive name the unknown explorable and list the known ones?"""
    from docutils.core import publish_doctree
    from docutils.parsers.rst import directives

    directives.register_directive("explorable", EXT.ExplorableDirective)
    doctree = publish_doctree(
        ".. explorable:: no-such-figure\n", settings_overrides={"warning_stream": io.StringIO()}
    )
    message = " ".join(n.astext() for n in doctree.findall() if n.tagname == "system_message")
    assert "unknown explorable 'no-such-figure'" in message
    assert "softmax-temperature" in message
