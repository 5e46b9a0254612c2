"""Checks of the built site that need no browser: assets, pages, chapter shape, downloads."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ._site import CHAPTER_NOTEBOOKS, article, is_external, soup

pytestmark = pytest.mark.book

# Link relations that make the browser fetch a script, stylesheet or font.
FETCHING_RELS = {"stylesheet", "preload", "modulepreload", "prefetch", "preconnect"}
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""")


def external_assets(html_path: Path) -> list[str]:
    """The external scripts, stylesheets and fonts one HTML page would load."""
    page = soup(html_path)
    found = [tag["src"] for tag in page.find_all("script", src=True) if is_external(tag["src"])]
    for link in page.find_all("link", href=True):
        rels = {rel.lower() for rel in link.get("rel", [])}
        if (rels & FETCHING_RELS or link.get("as") in {"font", "script", "style"}) and is_external(
            link["href"]
        ):
            found.append(link["href"])
    for style in page.find_all("style"):
        found += [url for url in CSS_URL.findall(style.get_text()) if is_external(url)]
    return found


def html_files(site: Path) -> list[Path]:
    """Every HTML page of the site (not the copies of sources under ``_sources``)."""
    return [p for p in site.rglob("*.html") if "_sources" not in p.relative_to(site).parts]


def test_every_toc_page_was_built(site, pages):
    """Was every page listed in _toc.yml built into an HTML file?"""
    missing = [doc for doc in pages if not (site / f"{doc}.html").is_file()]
    assert not missing, f"pages in _toc.yml with no HTML: {missing}"


def test_no_page_loads_external_scripts_styles_or_fonts(site):
    """Does every page load its scripts, stylesheets and fonts from the site itself?"""
    offenders = {}
    for path in html_files(site):
        if found := external_assets(path):
            offenders[str(path.relative_to(site))] = found
    assert not offenders, f"external assets (the site must work offline): {offenders}"


def test_no_stylesheet_imports_external_fonts_or_styles(site):
    """Do the site's CSS files avoid @import and url() from other hosts (web fonts)?"""
    offenders = {}
    for css in site.rglob("*.css"):
        urls = [u for u in CSS_URL.findall(css.read_text(errors="replace")) if is_external(u)]
        if urls:
            offenders[str(css.relative_to(site))] = urls
    assert not offenders, f"stylesheets fetching from other hosts: {offenders}"


def test_mathjax_is_served_by_the_site(site):
    """Does the chapter load MathJax from the site's own static files?"""
    page = soup(site / "book" / "entropy.html")
    sources = [tag["src"] for tag in page.find_all("script", src=True)]
    local = [src for src in sources if "mathjax" in src.lower() and not is_external(src)]
    assert local, f"no local MathJax script among {sources}"
    target = (site / "book" / urlsplit(local[0]).path).resolve()
    assert target.is_file(), f"MathJax script {local[0]} is not in the built site"


def section_titles(page) -> list[str]:
    """The text of the article's H2 headings, without the '#' permalink."""
    titles = []
    for h2 in article(page).find_all("h2"):
        for link in h2.select("a.headerlink"):
            link.extract()
        titles.append(h2.get_text(" ", strip=True))
    return titles


@pytest.mark.parametrize("stem", sorted(CHAPTER_NOTEBOOKS))
def test_chapter_has_the_course_shape(site, stem):
    """Does the chapter have one H1, Overview first, a Summary, and Exercises last?"""
    path = site / "book" / f"{stem}.html"
    assert path.is_file(), f"chapter {stem} was not built"
    page = soup(path)
    h1s = article(page).find_all("h1")
    assert len(h1s) == 1, f"{stem}: expected one H1, found {len(h1s)}"
    titles = section_titles(page)
    assert titles, f"{stem}: no H2 sections"
    assert titles[0] == "Overview", f"{stem}: first section is {titles[0]!r}, not 'Overview'"
    assert "Summary" in titles, f"{stem}: no 'Summary' section in {titles}"
    assert titles[-1] == "Exercises", f"{stem}: last section is {titles[-1]!r}, not 'Exercises'"


@pytest.mark.parametrize(
    ("stem", "notebook"),
    [(stem, nb) for stem, notebooks in sorted(CHAPTER_NOTEBOOKS.items()) for nb in notebooks],
)
def test_chapter_links_its_notebook_download(site, stem, notebook):
    """Does the chapter offer its graded notebook as a download that exists in the site?"""
    path = site / "book" / f"{stem}.html"
    page = soup(path)
    links = [
        a["href"]
        for a in article(page).select("a.download[href]")
        if urlsplit(a["href"]).path.endswith(f"/{notebook}.ipynb")
    ]
    assert links, f"{stem}: no download link to {notebook}.ipynb"
    target = (path.parent / urlsplit(links[0]).path).resolve()
    assert target.is_file(), f"{stem}: download {links[0]} is missing from the built site"


@pytest.mark.parametrize(
    ("button", "suffix"),
    [("btn-download-notebook-button", ".ipynb"), ("btn-download-source-button", ".md")],
)
@pytest.mark.parametrize("stem", sorted(CHAPTER_NOTEBOOKS))
def test_chapter_has_download_buttons(site, stem, button, suffix):
    """Does the chapter's header offer the page itself as .ipynb and as .md, and do they exist?"""
    path = site / "book" / f"{stem}.html"
    page = soup(path)
    links = [a["href"] for a in page.select(f"a.{button}[href]")]
    assert links, f"{stem}: no {suffix} download button ({button})"
    href = urlsplit(links[0]).path
    assert href.endswith(f"{stem}{suffix}"), f"{stem}: {button} points at {href}"
    assert (path.parent / href).resolve().is_file(), f"{stem}: {href} is not in the built site"
