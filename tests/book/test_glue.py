"""Numbers in the prose come from the computation (issue 8, part 2).

Two halves:

* The **check**: no page in ``_toc.yml`` may type by hand a decimal literal with three or
  more significant digits in its prose, captions, alt text or exercise solutions; such a
  number must be glued from the cell that computes it, or be a true constant listed with
  a reason in ``tests/book/glue_allowlist.py``. What counts as prose and why inline math
  is scanned is explained in ``tests/book/_glue_check.py``. ``book/errata.md`` is not
  checked: it quotes what other pages said before a correction, which no cell computes.
  These tests read the Markdown sources only; they need no build.
* The **alt-text extension** ``_ext/glue_alt.py`` (``{glue:KEY:FORMAT}`` in image alt
  text), tested on a scratch book built in a temporary folder.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from . import _glue_check
from ._site import REPO, article, soup, toc_files
from .glue_allowlist import ALLOWED

#: Pages the check leaves out, with the reason.
NOT_CHECKED = {"book/errata.md": "quotes other pages' old text; nothing on it is computed"}
PAGES = [f"{doc}.md" for doc in toc_files()]
CHECKED = [page for page in PAGES if page not in NOT_CHECKED]


def _report(page: str, found: list[_glue_check.Literal]) -> str:
    lines = [f"{page}: {len(found)} hand-typed number(s) with 3+ significant digits:"]
    lines += [f"  {page}:{f.line}: {f.literal!r} in {f.where}" for f in found]
    lines.append(
        "Fix: if a cell on the page computes it, glue it (glue('key', float(value), "
        "display=False) in the cell; {glue:text}`key:.3f` in prose and captions, "
        "{glue:key:.3f} in alt text). If it is a true constant or a fact of a definition, "
        f"add it to ALLOWED[{page!r}] in tests/book/glue_allowlist.py with the reason."
    )
    return "\n".join(lines)


# --- the check over the book ------------------------------------------------------------


@pytest.mark.parametrize("page", CHECKED)
def test_prose_numbers_are_glued(page):
    """Is every 3+ significant-digit number in the page's prose glued or allowlisted?"""
    source = (REPO / page).read_text(encoding="utf-8")
    found = _glue_check.violations(source, ALLOWED.get(page, {}))
    assert not found, _report(page, found)


def test_allowlist_names_only_checked_pages():
    """Does the allowlist have a section for every checked page, and only for those?"""
    assert set(ALLOWED) == set(CHECKED), (
        f"pages without a section: {sorted(set(CHECKED) - set(ALLOWED))}; "
        f"sections of unknown or unchecked pages: {sorted(set(ALLOWED) - set(CHECKED))}"
    )


@pytest.mark.parametrize("page", sorted(ALLOWED))
def test_allowlist_entries_are_needed_and_explained(page):
    """Does every allowlist entry give a reason and still match a number on its page?"""
    source = (REPO / page).read_text(encoding="utf-8") if (REPO / page).is_file() else ""
    typed = {found.literal for found in _glue_check.hand_typed(source)}
    for literal, reason in ALLOWED[page].items():
        assert reason.strip(), f"ALLOWED[{page!r}][{literal!r}] has no reason"
        assert literal in typed, (
            f"ALLOWED[{page!r}][{literal!r}] matches no 3+ digit number on the page "
            "(glued now, or reworded?): remove the entry"
        )


# --- the checker itself -----------------------------------------------------------------

PAGE_HEADER = textwrap.dedent(
    """\
    ---
    jupytext:
      text_representation:
        extension: .md
        format_name: myst
    kernelspec:
      display_name: Python 3
      language: python
      name: python3
    ---

    (scratch)=
    # Scratch
    """
)


def _flagged(source: str, allowed=None) -> list[tuple[int, str, str]]:
    return [(f.line, f.literal, f.where) for f in _glue_check.violations(source, allowed or {})]


@pytest.mark.parametrize(
    ("literal", "digits"),
    [
        ("0.511", 3),
        ("3.700", 4),
        ("0.05", 1),
        ("0.0100", 3),
        ("709.78", 5),
        ("1.5e-8", 2),
        ("1.25E+03", 3),
        ("100.0", 4),
        (".125", 3),
    ],
)
def test_significant_digits(literal, digits):
    """Are significant digits counted as written (leading zeros no, trailing zeros yes)?"""
    assert _glue_check.significant_digits(literal) == digits


def test_check_flags_a_number_planted_in_a_chapter_copy(tmp_path):
    """Does the check flag an unglued number planted in a copy of a chapter, at its line?"""
    original = (REPO / "book/entropy.md").read_text(encoding="utf-8")
    planted = original + "\nThe loss after training is 0.4127 nats.\n"
    copy = tmp_path / "entropy.md"
    copy.write_text(planted, encoding="utf-8")
    line = len(planted.splitlines())

    before = _flagged(original)
    after = _flagged(copy.read_text(encoding="utf-8"))
    assert after == [*before, (line, "0.4127", "prose")]


def test_check_passes_the_same_number_glued(tmp_path):
    """Once the planted number is glued (cell + role), is nothing new flagged?"""
    original = (REPO / "book/entropy.md").read_text(encoding="utf-8")
    glued = original + textwrap.dedent(
        """
        ```{code-cell} ipython3
        loss = 0.4127
        glue("ent-loss", loss, display=False)
        ```

        The loss after training is {glue:text}`ent-loss:.4f` nats.
        """
    )
    copy = tmp_path / "entropy.md"
    copy.write_text(glued, encoding="utf-8")
    assert _flagged(copy.read_text(encoding="utf-8")) == _flagged(original)


def test_check_reads_prose_captions_alt_text_and_solutions():
    """Are numbers found in prose, inline math, captions, alt text and solution prose?"""
    source = PAGE_HEADER + textwrap.dedent(
        """\
        A heading value 12.5 and $H \\approx 0.693$ nats, and {math}`x = 2.303`.

        ```{code-cell} ipython3
        ---
        tags: [hide-input]
        mystnb:
          figure:
            caption: |
              Loss against step. It ends at
              0.0123.
            name: fig-loss
          image:
            alt: A curve falling to 0.213 at the end.
        ---
        plt.plot([1, 2])
        ```

        ````{exercise}
        :label: ex-one

        Compute 4.25 bits.
        ````

        ```{solution-start} ex-one
        :class: dropdown
        ```

        The answer is 97.5 % of the total, 4.25e−18 and 2.55x faster, of the
        total, about $1.58
        \\,\\text{bits}$.

        ```{solution-end}
        ```
        """
    )
    start = PAGE_HEADER.count("\n") + 1
    assert _flagged(source) == [
        (start, "12.5", "prose"),
        (start, "0.693", "inline math in prose"),
        (start, "2.303", "inline math in prose"),
        (start + 9, "0.0123", "caption"),
        (start + 12, "0.213", "alt text"),
        (start + 20, "4.25", "prose"),
        (start + 27, "97.5", "prose"),
        (start + 27, "4.25e−18", "prose"),
        (start + 27, "2.55", "prose"),
        (start + 28, "1.58", "inline math in prose"),
    ]


def test_check_skips_code_display_math_and_non_numbers():
    """Are code, display math, glue, labels, URLs, versions and short numbers left alone?"""
    source = PAGE_HEADER + textwrap.dedent(
        """\
        ```{code-cell} ipython3
        x = 0.4127  # computed: 1.2345
        ```

        ```python
        print(3.14159)
        ```

        Inline code `np.log(0.693)` and ``2.718 `x` `` stay out.

        $$
        H = -0.5878 + 1.6094
        $$

        $$ D \\approx 0.5108 $$

        ```{math}
        :label: eq-x
        y = 0.3681
        ```

        \\begin{align}
        a &= 0.123
        \\end{align}

        Glued: {glue:text}`k-loss:.3f`, and {ref}`fig 1.234 <sec-1>`, {cite:p}`szegedy2016`,
        [a link](https://example.org/v1.234/page) and https://example.org/0.123.
        Version 1.4.0 of myst-nb, Python 3.11, Figure 2.13, Section 4.12, float64, ps1.
        Short numbers: 0.01, 0.25, 1e-7, 3e-8, 1.5e-8, 42 %, 1797 images, year 2016.

        <!-- a comment with 0.999 -->

        ```{image} pic.png
        :alt: A dot at {glue:k-loss:.3f}
        :name: fig-9.876
        ```
        """
    )
    assert _flagged(source) == []


def test_allowlist_entries_silence_only_their_literal():
    """Does an allowlist entry allow exactly its literal, as written?"""
    source = PAGE_HEADER + "One nat is $1/\\ln 2 \\approx 1.443$ bits, or 1.4427.\n"
    line = PAGE_HEADER.count("\n") + 1
    assert _flagged(source, {"1.443": "1/ln 2"}) == [(line, "1.4427", "prose")]


# --- the alt-text extension ---------------------------------------------------------------


def _load_glue_alt():
    spec = importlib.util.spec_from_file_location("glue_alt", REPO / "_ext" / "glue_alt.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("alt", "expected"),
    [
        ("p = {glue:p:.2f}", "p = 0.40"),
        ("{glue:p}", "0.40123"),
        ("{glue:p:.1%} and {glue:n:d} steps", "40.1% and 50 steps"),
        ("{glue:big:.2e}", "1.23e-08"),
        ("no placeholder, 0.5", "no placeholder, 0.5"),
    ],
)
def test_substitute_formats_like_glue_text(alt, expected):
    """Does a placeholder become the glued text/plain value in the given format?"""
    values = {"p": "0.40123", "n": "50", "big": "1.2345e-08"}
    assert _load_glue_alt().substitute(alt, values) == (expected, [])


def test_substitute_reports_unknown_keys_and_bad_formats():
    """Is an unknown key or a format that does not fit the value reported, not guessed?"""
    text, problems = _load_glue_alt().substitute("{glue:nope} {glue:word:.2f}", {"word": "'abc'"})
    assert text == "{glue:nope} {glue:word:.2f}"
    assert len(problems) == 2
    assert "'nope' is not glued on this page" in problems[0]
    assert "'word'" in problems[1] and "'.2f'" in problems[1]


SCRATCH_CONFIG = """\
title: Scratch
only_build_toc_files: true
execute:
  execute_notebooks: force
sphinx:
  local_extensions:
    glue_alt: {ext}
"""

SCRATCH_PAGE = PAGE_HEADER + textwrap.dedent(
    """\
    ```{{code-cell}} ipython3
    import matplotlib.pyplot as plt
    from myst_nb import glue

    glue("t-p", 0.40123, display=False)
    glue("t-n", 50, display=False)
    ```

    The value is {{glue:text}}`t-p:.3f`.

    ```{{code-cell}} ipython3
    ---
    mystnb:
      figure:
        caption: A line; p is {{glue:text}}`t-p:.3f`.
        name: fig-t
      image:
        alt: {alt}
    ---
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, 1])
    plt.show()
    ```
    """
)


def _build_scratch_book(folder: Path, alt: str) -> subprocess.CompletedProcess:
    """Build a one-page book whose figure has ``alt`` as alt text, with -W."""
    folder.mkdir()
    (folder / "_config.yml").write_text(SCRATCH_CONFIG.format(ext=REPO / "_ext"))
    (folder / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (folder / "page.md").write_text(SCRATCH_PAGE.format(alt=alt))
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return subprocess.run(
        [Path(sys.executable).with_name("jupyter-book"), "build", folder, "-W", "--keep-going"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.slow
def test_scratch_book_alt_text_gets_glued_values(tmp_path):
    """In a built scratch book, does the alt attribute hold the glued, formatted values?"""
    result = _build_scratch_book(
        tmp_path / "book", "Line at {glue:t-p:.2f}, {glue:t-n} steps, {glue:t-p:.0%}."
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    page = soup(tmp_path / "book" / "_build" / "html" / "page.html")
    images = page.select("figure img")
    assert [img["alt"] for img in images] == ["Line at 0.40, 50 steps, 40%."]
    # The {glue:text} role works in a `mystnb: figure: caption:` (parsed as MyST).
    caption = " ".join(page.select_one("figure figcaption").get_text().split())
    assert "A line; p is 0.401." in caption


@pytest.mark.slow
def test_scratch_book_unknown_key_fails_the_build(tmp_path):
    """Does an alt-text key that is not glued on the page fail a -W build, naming both?"""
    result = _build_scratch_book(tmp_path / "book", "Line at {glue:t-missing:.2f}.")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "glue key 't-missing' is not glued on this page" in output
    assert "page 'page'" in output


def test_glue_alt_is_registered_in_the_book_config():
    """Does the book's _config.yml load _ext/glue_alt.py (else placeholders show literally)?"""
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    assert config["sphinx"]["local_extensions"].get("glue_alt") == "_ext"


@pytest.mark.book
def test_built_site_shows_no_glue_placeholder(site, pages):
    """Does no built page show a {glue:...} placeholder, in alt text or in its text?"""
    offenders = {}
    for doc in pages:
        page = soup(site / f"{doc}.html")
        body = article(page)
        found = [img["alt"] for img in body.find_all("img", alt=True) if "{glue:" in img["alt"]]
        found += [line for line in body.get_text().splitlines() if "{glue:" in line]
        if found:
            offenders[doc] = found
    assert not offenders, f"unresolved glue placeholders: {offenders}"
