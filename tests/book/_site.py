"""Where the built site is, which pages it must have, and how to read its HTML."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from bs4 import BeautifulSoup

REPO = Path(__file__).resolve().parents[2]

# Chapter stem -> the graded notebook it links to (DESIGN.md, "Assignments"; the layout
# decides which chapter points at which notebook).
CHAPTER_NOTEBOOKS = {
    "information_content": "ps1_information",
    "entropy": "ps1_information",
    "kl_divergence": "ps2_divergence",
    "cross_entropy": "ps2_divergence",
    "sigmoid_softmax": "ps3_softmax_sigmoid",
    "cross_entropy_meets_softmax": "ps4_classification_losses",
    "regression_losses": "ps6_regression_losses",
    "training": "ps7_training",
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


def soup(path: Path) -> BeautifulSoup:
    """Parse one built HTML file."""
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def article(page: BeautifulSoup):
    """The page's main article, without the theme's navigation, sidebars and print copy."""
    found = page.select_one("article.bd-article")
    assert found is not None, "no <article class='bd-article'>: has the theme changed?"
    return found
