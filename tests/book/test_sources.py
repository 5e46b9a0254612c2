"""Checks that need no build: the table of contents, the chapter sources, the helpers."""

from __future__ import annotations

import re

import pytest

from ._site import CHAPTER_NOTEBOOKS, REPO, is_external, toc_files

PAGES = toc_files()


def test_toc_lists_every_chapter_once():
    """Does _toc.yml list each chapter exactly once, after the root page?"""
    assert len(PAGES) == len(set(PAGES)), f"duplicate entries in _toc.yml: {PAGES}"
    missing = [stem for stem in CHAPTER_NOTEBOOKS if f"book/{stem}" not in PAGES]
    assert not missing, f"chapters missing from _toc.yml: {missing}"


@pytest.mark.parametrize("doc", PAGES)
def test_toc_entry_has_a_source(doc):
    """Does every page listed in _toc.yml have a Markdown source with its (label)= target?"""
    source = REPO / f"{doc}.md"
    assert source.is_file(), f"{doc} is in _toc.yml but {source.name} does not exist"
    label = doc.rsplit("/", 1)[-1]
    text = source.read_text(encoding="utf-8")
    assert re.search(rf"^\({re.escape(label)}\)=\s*$", text, flags=re.M), (
        f"{source.name} lacks the target ({label})= that other pages use with {{ref}}"
    )


@pytest.mark.parametrize(
    ("url", "external"),
    [
        ("https://cdn.example.org/mathjax.js", True),
        ("http://example.org/a.css", True),
        ("//fonts.example.org/font.woff2", True),
        ("  HTTPS://EXAMPLE.ORG/x.js", True),
        ("../_static/mathjax/tex-chtml.js", False),
        ("_static/styles/theme.css?digest=abc", False),
        ("data:font/woff2;base64,AAAA", False),
        ("/_static/x.js", False),
    ],
)
def test_is_external(url, external):
    """Is a URL classed as external exactly when it names another host?"""
    assert is_external(url) is external
