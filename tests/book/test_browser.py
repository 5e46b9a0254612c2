"""The built site in a real browser: Debian's chromium driven by Playwright (sync API).

Every page of the table of contents must load without console errors or failed requests,
typeset all of its math with the site's own MathJax, and show every image with alt text.
A few interactions are checked once: a solution dropdown, the search page, dark mode.
The tests skip when chromium is not installed, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from ._site import CHAPTER_NOTEBOOKS, REPO, toc_files

pytestmark = [pytest.mark.browser, pytest.mark.book]

ARTIFACTS = REPO / "test-artifacts"
TIMEOUT_MS = 20_000
# TeX that must never be visible as text once MathJax has run.
RAW_TEX = re.compile(r"\$\$|\\frac|\\begin\{|\\\(|\\\[|\\sum_|\\log\b|\\mathrm\{")

# Waits for MathJax 3 (if the page loaded it) to finish typesetting.
WAIT_FOR_MATHJAX = """async () => {
    const startup = window.MathJax && window.MathJax.startup;
    if (startup && startup.promise) { await startup.promise; }
    return Boolean(startup);
}"""

# Everything the per-page tests need, measured in one pass over the loaded page.
PAGE_REPORT = """async () => {
    const images = Array.from(document.images);
    images.forEach((img) => { img.loading = "eager"; });
    await Promise.all(images.map((img) => img.complete ? null : new Promise((done) => {
        img.addEventListener("load", done); img.addEventListener("error", done);
    })));
    const root = document.querySelector("article.bd-article") || document.body;
    const maths = Array.from(root.querySelectorAll(".math"));
    // Visible text outside code blocks and rendered math: raw TeX must not appear there.
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const visible = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const parent = node.parentElement;
        if (!parent || parent.closest("pre, code, mjx-container, script, style")) continue;
        if (parent.checkVisibility && !parent.checkVisibility()) continue;
        visible.push(node.textContent);
    }
    return {
        images: images.map((img) => ({
            src: img.currentSrc || img.src, alt: img.getAttribute("alt"),
            width: img.naturalWidth,
        })),
        math: maths.length,
        untypeset: maths.filter((el) => !el.querySelector("mjx-container"))
                       .map((el) => el.textContent.slice(0, 60)),
        containers: root.querySelectorAll("mjx-container").length,
        text: visible.join(" "),
    };
}"""


class Visit:
    """One page opened in a fresh browser context, recording everything that went wrong."""

    def __init__(self, browser, base_url: str, *, color_scheme: str = "light"):
        self.base_url = base_url
        self.problems: list[str] = []
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900}, color_scheme=color_scheme
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        # Nothing may leave the machine: requests to other hosts are refused and recorded.
        self.context.route("**/*", self._only_local)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._response)

    def _only_local(self, route):
        if urlsplit(route.request.url).netloc == urlsplit(self.base_url).netloc:
            route.continue_()
        else:
            self.problems.append(f"request to another host: {route.request.url}")
            route.abort()

    def _console(self, message):
        if message.type == "error":
            location = message.location.get("url", "") if message.location else ""
            self.problems.append(f"console error: {message.text} ({location})")

    def _failed(self, request):
        self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response):
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def open(self, path: str):
        """Load ``path`` (relative to the site root) and wait for MathJax to finish."""
        self.page.goto(f"{self.base_url}/{path}", wait_until="load")
        self.page.evaluate(WAIT_FOR_MATHJAX)
        return self.page

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, server):
    """Open pages in a fresh context; closes it after the test."""
    visits = []

    def opener(path: str, **options):
        visits.append(Visit(browser, server, **options))
        return visits[-1], visits[-1].open(path)

    yield opener
    for v in visits:
        v.close()


@pytest.fixture(scope="session")
def reports(browser, server):
    """Load every page of the toc once and keep what the per-page tests check."""
    cache = {}

    def report(doc: str):
        if doc not in cache:
            v = Visit(browser, server)
            try:
                page = v.open(f"{doc}.html")
                cache[doc] = {**page.evaluate(PAGE_REPORT), "problems": list(v.problems)}
            finally:
                v.close()
        return cache[doc]

    return report


PAGES = toc_files()


@pytest.mark.parametrize("doc", PAGES)
def test_page_loads_without_errors(reports, doc):
    """Does the page load with no console error, failed request or outside request?"""
    problems = reports(doc)["problems"]
    assert not problems, f"{doc}: " + "; ".join(problems)


@pytest.mark.parametrize("doc", PAGES)
def test_math_is_typeset(reports, doc):
    """Has MathJax typeset every formula, leaving no raw TeX visible?"""
    report = reports(doc)
    untypeset = report["untypeset"]
    assert not untypeset, f"{doc}: formulas MathJax did not typeset: {untypeset}"
    if report["math"]:
        assert report["containers"] >= report["math"], f"{doc}: too few mjx-container elements"
    raw = RAW_TEX.findall(report["text"])
    assert not raw, f"{doc}: raw TeX visible on the page: {sorted(set(raw))}"


@pytest.mark.parametrize("stem", sorted(CHAPTER_NOTEBOOKS))
def test_chapters_have_typeset_math(reports, stem):
    """Does every chapter contain math rendered by MathJax (mjx-container elements)?"""
    assert reports(f"book/{stem}")["containers"] > 0, f"{stem}: no mjx-container on the page"


@pytest.mark.parametrize("doc", PAGES)
def test_images_load_and_have_alt_text(reports, doc):
    """Has every image loaded (naturalWidth > 0), and does each have non-empty alt text?"""
    images = reports(doc)["images"]
    broken = [img["src"] for img in images if img["width"] == 0]
    no_alt = [img["src"] for img in images if not (img["alt"] or "").strip()]
    assert not broken, f"{doc}: images that did not load: {broken}"
    assert not no_alt, f"{doc}: images without alt text: {no_alt}"


def test_solution_dropdown_opens_on_click(visit):
    """Is a solution hidden at first and shown after a click on its toggle?"""
    v, page = visit("book/entropy.html")
    solution = page.locator(".solution.dropdown").first
    content = solution.locator("section").first
    assert not content.is_visible(), "the solution is visible before any click"
    solution.locator("button.toggle-button").first.click()
    content.wait_for(state="visible")
    assert content.is_visible()
    assert not v.problems, "; ".join(v.problems)


def test_search_finds_softmax(visit):
    """Does the site's search page return results for 'softmax'?"""
    v, page = visit("search.html?q=softmax")
    results = page.locator("ul.search li")
    results.first.wait_for(state="attached")
    assert results.count() > 0
    hrefs = [a.get_attribute("href") for a in page.locator("ul.search li a").all()]
    assert any(h and h.split("?")[0].endswith(".html") for h in hrefs), hrefs
    assert not v.problems, "; ".join(v.problems)


def test_dark_mode_toggles(visit):
    """Does the theme button switch the page to a dark background?"""
    v, page = visit("book/cross_entropy.html")
    html = page.locator("html")
    background = "() => getComputedStyle(document.body).backgroundColor"
    assert html.get_attribute("data-theme") == "light"
    light_background = page.evaluate(background)
    button = page.locator(".theme-switch-button").first
    for _ in range(3):  # the button cycles through auto, dark and light
        if html.get_attribute("data-theme") == "dark":
            break
        button.click()
    assert html.get_attribute("data-theme") == "dark"
    dark_background = page.evaluate(background)
    assert dark_background != light_background
    red, green, blue = (int(x) for x in re.findall(r"\d+", dark_background)[:3])
    assert red + green + blue < 3 * 128, f"dark mode background is not dark: {dark_background}"
    assert not v.problems, "; ".join(v.problems)


def test_screenshot_of_a_chapter(visit):
    """Can a chapter be rendered to a full-page screenshot (saved under test-artifacts/)?"""
    _, page = visit("book/cross_entropy.html")
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "cross_entropy.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 50_000, "the screenshot is suspiciously small"
