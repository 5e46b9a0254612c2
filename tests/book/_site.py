"""Where the built site is, which pages it must have, and how to read its HTML."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from bs4 import BeautifulSoup

REPO = Path(__file__).resolve().parents[2]

# Chapter stem -> the graded notebooks it links to (the layout decides which chapter
# points at which notebook; DESIGN.md names the assignments).
CHAPTER_NOTEBOOKS = {
    "information_content": ("ps1_information",),
    "entropy": ("ps1_information",),
    "kl_divergence": ("ps2_divergence",),
    "cross_entropy": ("ps2_divergence",),
    "sigmoid_softmax": ("ps3_softmax_sigmoid",),
    "cross_entropy_meets_softmax": ("ps4_classification_losses", "ps5_gradients"),
    "regression_losses": ("ps6_regression_losses",),
    "training": ("ps7_training",),
}


def site_dir() -> Path:
    """The folder holding the built HTML site."""
    return Path(os.environ.get("BOOK_HTML_DIR", REPO / "_build" / "html")).resolve()


def toc_files(toc_path: Path = REPO / "_toc.yml") -> list[str]:
    """Every file the table of contents lists, root first, in reading order (no suffix)."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    walk(toc.get("parts"))
    walk(toc.get("chapters"))
    walk(toc.get("sections"))
    return [str(Path(f).with_suffix("")) for f in files]


@functools.lru_cache(maxsize=64)
def soup(path: Path) -> BeautifulSoup:
    """Parse one built HTML file (cached: several tests read the same chapter)."""
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def article(page: BeautifulSoup):
    """The page's main article, without the theme's navigation, sidebars and print copy."""
    found = page.select_one("article.bd-article")
    assert found is not None, "no <article class='bd-article'>: has the theme changed?"
    return found


def is_external(url: str) -> bool:
    """Is ``url`` fetched from another host (http, https or protocol-relative)?"""
    url = url.strip()
    return url.startswith("//") or urlsplit(url).scheme in {"http", "https"}
