"""An accessibility audit of every page of the built site with axe-core.

axe-core (from npm, pinned in package.json, installed by ``make``) is injected into each
page from the local file, so the audit needs no network. Any violation of impact
"serious" or "critical" fails the page; "moderate" and "minor" ones are reported by axe
but not gated here. Pages with explorables are audited after their scripts have built the
controls, in the light and in the dark theme (their colours change with the theme).
"""

from __future__ import annotations

import pytest

from ._site import REPO, site_dir, toc_files
from .test_browser import Visit  # the browser fixture is tests/conftest.py's

pytestmark = [pytest.mark.browser, pytest.mark.book]

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
GATED = ("serious", "critical")

RUN_AXE = """async () => {
    const results = await axe.run(document, { resultTypes: ["violations"] });
    return results.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
        count: v.nodes.length,
    }));
}"""


def _has_explorable(doc: str) -> bool:
    path = site_dir() / f"{doc}.html"
    return path.is_file() and "data-explorable=" in path.read_text(encoding="utf-8")


def audit(chromium, server, doc: str, color_scheme: str) -> list[dict]:
    """The serious and critical axe violations of one page."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE.relative_to(REPO)}: run make book", pytrace=False)
    v = Visit(chromium, server, color_scheme=color_scheme)
    try:
        page = v.open(f"{doc}.html")
        if _has_explorable(doc):
            page.wait_for_function("document.documentElement.dataset.explorablesReady")
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(RUN_AXE)
    finally:
        v.close()
    return [item for item in violations if item["impact"] in GATED]


def _describe(violations: list[dict]) -> str:
    return "\n".join(
        f"  {v['impact']}: {v['id']} ({v['help']}) x{v['count']}: {v['targets']}"
        for v in violations
    )


@pytest.mark.parametrize("doc", toc_files())
def test_no_serious_accessibility_violations(browser, server, doc):
    """Does axe-core find no serious or critical violation on the page (light theme)?"""
    violations = audit(browser, server, doc, "light")
    assert not violations, f"{doc}:\n{_describe(violations)}"


@pytest.mark.parametrize("doc", [d for d in toc_files() if _has_explorable(d)])
def test_explorable_pages_pass_in_dark_mode(browser, server, doc):
    """Does a page with explorables pass axe in the dark theme as well?"""
    violations = audit(browser, server, doc, "dark")
    assert not violations, f"{doc}:\n{_describe(violations)}"
