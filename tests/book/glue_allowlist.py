"""Numbers that may be typed by hand in a page's prose: the allowlist of the glue check.

The rule (issue 8, "Numbers in prose come from the computation"): every number in a page's
prose, captions, alt text and exercise solutions that a code cell on the page computes is
inserted with myst-nb's glue (``{glue:text}`key:.3f``` in prose, the placeholder
``{glue:key:.3f}`` in alt text), never typed. ``tests/book/test_glue.py`` enforces it by
flagging every decimal literal with three or more significant digits that is written in
a page's source outside code and display math.

A few such literals are not computed results but true constants or facts of a definition,
for example "one nat is 1/ln 2 ≈ 1.443 bits" or "exp overflows once z > 709.78". Those
are allowed here, page by page, each with a reason:

    ALLOWED[page path][literal exactly as written in the source] = reason

The literal is matched as written ("1.443", not "1.4427"); the sign is not part of it. An
entry allows that literal anywhere on its page. An entry whose literal no longer occurs on
its page fails the check too, so the list cannot rot. Keep reasons short and specific:
which constant it is, and why a cell does not compute it.

Each page has its own section below, separated from its neighbours by comment lines so
that helpers adding entries to different pages merge without conflicts. Add entries only
to your own pages' sections.
"""

from __future__ import annotations

ALLOWED: dict[str, dict[str, str]] = {
    # ------------------------------------------------------------------------------------
    # book/intro.md
    # ------------------------------------------------------------------------------------
    "book/intro.md": {
        # "literal": "reason",
    },
    # ------------------------------------------------------------------------------------
    # book/information_content.md
    # ------------------------------------------------------------------------------------
    "book/information_content.md": {
        # "literal": "reason",
    },
    # ------------------------------------------------------------------------------------
    # book/entropy.md
    # ------------------------------------------------------------------------------------
    "book/entropy.md": {
        # "literal": "reason",
    },
    # ------------------------------------------------------------------------------------
    # book/kl_divergence.md
    # ------------------------------------------------------------------------------------
    "book/kl_divergence.md": {
        # "literal": "reason",
    },
    # ------------------------------------------------------------------------------------
    # book/cross_entropy.md
    # ------------------------------------------------------------------------------------
    "book/cross_entropy.md": {
        # "literal": "reason",
    },
    # ------------------------------------------------------------------------------------
    # book/sigmoid_softmax.md
    # ------------------------------------------------------------------------------------
    "book/sigmoid_softmax.md": {
        # "literal": "reason",
    },
    # ------------------------------------------------------------------------------------
    # book/cross_entropy_meets_softmax.md
    # ------------------------------------------------------------------------------------
    "book/cross_entropy_meets_softmax.md": {
        # "literal": "reason",
    },
    # ------------------------------------------------------------------------------------
    # book/regression_losses.md
    # ------------------------------------------------------------------------------------
    "book/regression_losses.md": {
        # "literal": "reason",
    },
    # ------------------------------------------------------------------------------------
    # book/training.md
    # ------------------------------------------------------------------------------------
    "book/training.md": {
        # "literal": "reason",
    },
    # ------------------------------------------------------------------------------------
    # book/notation.md
    # ------------------------------------------------------------------------------------
    "book/notation.md": {
        # "literal": "reason",
    },
    # ------------------------------------------------------------------------------------
    # book/more_information_theory.md
    # ------------------------------------------------------------------------------------
    "book/more_information_theory.md": {
        # "literal": "reason",
    },
    # ------------------------------------------------------------------------------------
    # book/confidence_calibration.md
    # ------------------------------------------------------------------------------------
    "book/confidence_calibration.md": {
        # "literal": "reason",
    },
    # ------------------------------------------------------------------------------------
    # book/imbalance_margins.md
    # ------------------------------------------------------------------------------------
    "book/imbalance_margins.md": {
        # "literal": "reason",
    },
    # ------------------------------------------------------------------------------------
    # book/frameworks.md
    # ------------------------------------------------------------------------------------
    "book/frameworks.md": {
        # "literal": "reason",
    },
    # ------------------------------------------------------------------------------------
    # Appendix pages: book/api.md, book/glossary.md, book/sources.md, book/bibliography.md
    # (book/errata.md is not checked: it quotes other pages' old text by design.)
    # ------------------------------------------------------------------------------------
    "book/api.md": {
        # "literal": "reason",
    },
    # ------------------------------------------------------------------------------------
    "book/glossary.md": {
        # "literal": "reason",
        "1.443": "1/ln 2, the number of bits in a nat: a constant of the unit change",
    },
    # ------------------------------------------------------------------------------------
    "book/sources.md": {
        # "literal": "reason",
    },
    # ------------------------------------------------------------------------------------
    "book/bibliography.md": {
        # "literal": "reason",
    },
    # ------------------------------------------------------------------------------------
}
