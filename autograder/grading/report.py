"""``python -m autograder report ASSIGNMENT``: what the class got wrong.

Reads the gradebook (nbgrader's scores, manual grades included) and the grader's own
per-test results (``autograder_result.tests``: score, message and the failed
misconception ``categories`` of every test cell, in case order) and writes, as JSON or as
one self-contained HTML page:

- how many submissions there are, how many were graded and how many could not be
  (``ungradable``, ``timeout`` and ``crashed`` all count as ungradable, as in ``export``);
- the distribution of the graded scores (mean, median, a 10-bin histogram over
  0 … max score);
- per test cell: the mean score and how many graded submissions got full or zero points;
- the misconceptions, ranked by how many students hit them. A failed test counts once,
  under the *first* category that failed: the batteries order their cases so that the
  first failing category is the real cause (a missing max shift, not the NaN it causes
  later). Each misconception links to the book section that teaches it;
- the students to help first: those whose notebook could not be graded, then the lowest
  graded scores among those who lost points (a written answer still waiting for its manual
  grade does not count as lost).

Nothing here is a hidden input: messages are the batteries' per-category texts, never a
case's numbers.

The links use the book's base URL, ``html.baseurl`` in ``_config.yml`` (one setting, also
read by ``release`` for the notebooks' chapter links; see :func:`autograder.release.book_url`).
"""

from __future__ import annotations

import argparse
import html
import json
import statistics
import sys
from pathlib import Path

#: Each assignment's chapter page(s), the fallback for a category without a section.
CHAPTERS = {
    "ps1_information": "information_content",
    "ps2_divergence": "kl_divergence",
    "ps3_softmax_sigmoid": "sigmoid_softmax",
    "ps4_classification_losses": "cross_entropy_meets_softmax",
    "ps5_gradients": "cross_entropy_meets_softmax",
    "ps6_regression_losses": "regression_losses",
    "ps7_training": "training",
}

#: The section that teaches each misconception: ``category -> "page#anchor"`` (anchors are
#: the ids Sphinx gives the headings of ``book/<page>.md``).
SECTIONS = {
    "base": "information_content#bits-nats-and-bans",
    "impossible": "information_content#surprise-is-information",
    "tiny": "information_content#how-fast-information-grows",
    "zero_prob": "entropy#zero-times-log-zero",
    "unnormalised": "kl_divergence#the-extra-cost-of-the-wrong-model",
    "asymmetry": "kl_divergence#not-a-distance-asymmetry",
    "identity": "cross_entropy#entropy-plus-divergence",
    "zero_q": "kl_divergence#infinite-divergence",
    "overflow": "sigmoid_softmax#the-max-shift",
    "large_gap": "sigmoid_softmax#log-sum-exp-and-log-softmax",
    "underflow": "sigmoid_softmax#log-sum-exp-and-log-softmax",
    "masked": "sigmoid_softmax#the-softmax",
    "float32": "sigmoid_softmax#breaking-the-textbook-softmax",
    "clamp": "cross_entropy_meets_softmax#numerical-stability-compute-from-logits",
    "sign": "cross_entropy_meets_softmax#the-gradient-of-binary-cross-entropy-with-a-sigmoid",
    "multilabel": (
        "cross_entropy_meets_softmax#one-label-or-many-softmax-versus-a-sigmoid-per-class"
    ),
    "precision_softmax": "cross_entropy_meets_softmax#the-gradient-of-softmax-cross-entropy",
    "precision_sigmoid": (
        "cross_entropy_meets_softmax#the-gradient-of-binary-cross-entropy-with-a-sigmoid"
    ),
    "soft_target": (
        "cross_entropy_meets_softmax#the-gradient-of-binary-cross-entropy-with-a-sigmoid"
    ),
    "central": "training#checking-the-backward-pass",
    "eps": "training#checking-the-backward-pass",
    "int_input": "training#checking-the-backward-pass",
    "kink": "regression_losses#their-gradients",
    "boundary": "regression_losses#their-gradients",
    "beta": "regression_losses#huber-is-a-rescaled-smooth-l1",
    "beta_zero": "regression_losses#huber-is-a-rescaled-smooth-l1",
    "delta": "regression_losses#huber-is-a-rescaled-smooth-l1",
    "huge": "regression_losses#large-residuals",
    "bias": "training#the-model-and-its-two-losses",
    "predict": "training#the-model-and-its-two-losses",
    "accuracy": "training#training",
}

#: Where one assignment's chapter teaches a category better than the shared section.
SECTION_OVERRIDES = {
    ("ps4_classification_losses", "overflow"): (
        "cross_entropy_meets_softmax#numerical-stability-compute-from-logits"
    ),
    ("ps4_classification_losses", "large_gap"): (
        "cross_entropy_meets_softmax#numerical-stability-compute-from-logits"
    ),
    ("ps5_gradients", "overflow"): (
        "cross_entropy_meets_softmax#numerical-stability-compute-from-logits"
    ),
    ("ps5_gradients", "reduction"): (
        "cross_entropy_meets_softmax#the-gradient-of-softmax-cross-entropy"
    ),
    ("ps5_gradients", "shape"): "training#checking-the-backward-pass",
    ("ps5_gradients", "value"): "cross_entropy_meets_softmax#the-gradient-of-softmax-cross-entropy",
    ("ps6_regression_losses", "reduction"): "regression_losses#four-losses-of-one-residual",
    ("ps7_training", "reduction"): "training#the-model-and-its-two-losses",
}

#: Statuses that mean "the notebook could not be graded" (export calls them all ungradable).
UNGRADABLE = ("ungradable", "timeout", "crashed")
#: How many graded students the "help first" list shows at most (all ungradable ones are shown).
HELP_FIRST = 10
BINS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="assignment id, e.g. ps4_classification_losses")
    parser.add_argument("--course", default="course", help="nbgrader course root (default: course)")
    parser.add_argument(
        "--db", metavar="URL", help="SQLAlchemy URL of the gradebook (default: the course's)"
    )
    parser.add_argument("--format", choices=("html", "json"), default="html")
    parser.add_argument("--output", "-o", help="write here instead of standard output")


def section_url(base_url: str, assignment: str, category: str) -> str:
    """The book section that teaches ``category`` (the assignment's chapter if none fits)."""
    target = SECTION_OVERRIDES.get((assignment, category)) or SECTIONS.get(category)
    if target is None:
        target = CHAPTERS.get(assignment, "intro")
    page, _, anchor = target.partition("#")
    return f"{base_url.rstrip('/')}/book/{page}.html" + (f"#{anchor}" if anchor else "")


def category_message(battery, grade_id: str, category: str) -> str:
    """The text a category stands for: the battery's message, else the outcome's."""
    from autograder.batteries.messages import DEFAULT_MESSAGES, OUTCOME_CATEGORIES

    try:
        test = battery.test(grade_id)
    except KeyError:
        test = None
    tables = [getattr(test, "messages", {}), battery.messages, DEFAULT_MESSAGES]
    for table in tables:
        if category in table:
            return table[category]
    return OUTCOME_CATEGORIES.get(category, category)


def _histogram(scores: list[float], max_score: float) -> list[list[float]]:
    """``[[lo, hi, count], …]``: ``BINS`` equal bins over [0, max_score], the last closed."""
    if max_score <= 0:
        return [[0.0, 0.0, len(scores)]]
    width = max_score / BINS
    counts = [0] * BINS
    for s in scores:
        counts[min(BINS - 1, max(0, int(s / width)))] += 1
    return [[round(k * width, 10), round((k + 1) * width, 10), counts[k]] for k in range(BINS)]


def build(gb, assignment: str, base_url: str) -> dict:
    """The report of ``assignment`` as a plain dict (the JSON format)."""
    from autograder.batteries import load
    from autograder.grading.gradebook import entries, import_nbgrader_api, stored_results

    battery = load(assignment)
    MissingEntry = import_nbgrader_api().MissingEntry
    nb_assignment = gb.find_assignment(assignment)  # MissingEntry: nothing released/graded
    rows = [r for r in stored_results(gb, assignment) if r["status"] != "missing"]
    graded_rows = [r for r in rows if r["status"] == "graded"]
    totals: dict[str, float] = {}
    lost: dict[str, float] = {}  # points lost on cells already graded (pending ones excluded)
    auto: dict[str, dict[str, float]] = {}  # student -> grade_id -> score that counts
    max_total = 0.0
    for row in graded_rows:
        try:
            sub = gb.find_submission(assignment, row["student_id"])
        except MissingEntry:
            sub = None
        cells = entries(row, sub, nb_assignment)
        totals[row["student_id"]] = sum(e.score for e in cells)
        lost[row["student_id"]] = sum(e.max_score - e.score for e in cells if not e.pending)
        auto[row["student_id"]] = {e.grade_id: e.score for e in cells if e.kind == "auto"}
        max_total = max(max_total, sum(e.max_score for e in cells))
    max_total = max_total or float(nb_assignment.max_score or battery.max_score)
    scores = sorted(totals.values())

    tests = []
    for test in battery.tests:
        got = [auto[s].get(test.grade_id, 0.0) for s in auto]
        tests.append(
            {
                "grade_id": test.grade_id,
                "max_score": float(test.points),
                "mean": statistics.fmean(got) if got else None,
                "full": sum(1 for g in got if g >= test.points),
                "zero": sum(1 for g in got if g <= 0),
            }
        )

    hits: dict[tuple[str, str], list[str]] = {}
    first_categories: dict[str, list[str]] = {}  # student -> their misconceptions
    for row in graded_rows:
        for t in row["tests"]:
            categories = t.get("categories") or []
            if float(t["score"]) >= float(t["max_score"]) or not categories:
                continue
            hits.setdefault((t["grade_id"], categories[0]), []).append(row["student_id"])
            first_categories.setdefault(row["student_id"], []).append(categories[0])
    order = {gid: k for k, gid in enumerate(battery.grade_ids)}
    ranked = sorted(hits.items(), key=lambda kv: (-len(kv[1]), order.get(kv[0][0], 99), kv[0][1]))
    n_graded = len(graded_rows)
    misconceptions = [
        {
            "grade_id": grade_id,
            "category": category,
            "message": category_message(battery, grade_id, category),
            "students": sorted(students),
            "count": len(students),
            "share": len(students) / n_graded,
        }
        for (grade_id, category), students in ranked
    ]
    chapters = {
        m["category"]: section_url(base_url, assignment, m["category"]) for m in misconceptions
    }

    help_first = [
        {
            "student": r["student_id"],
            "status": r["status"],
            "score": None,
            "max_score": max_total,
            "reason": r["reason"],
            "misconceptions": [],
        }
        for r in sorted(rows, key=lambda r: r["student_id"])
        if r["status"] in UNGRADABLE
    ]
    # only students who lost points (a written answer still waiting for its grade is no sign)
    lowest = sorted((score, s) for s, score in totals.items() if lost[s] > 0)
    help_first += [
        {
            "student": s,
            "status": "graded",
            "score": score,
            "max_score": max_total,
            "reason": "",
            "misconceptions": list(dict.fromkeys(first_categories.get(s, []))),
        }
        for score, s in lowest[:HELP_FIRST]
    ]
    return {
        "assignment": assignment,
        "submissions": len(rows),
        "graded": n_graded,
        "ungradable": sum(1 for r in rows if r["status"] in UNGRADABLE),
        "score": {
            "mean": statistics.fmean(scores) if scores else None,
            "median": statistics.median(scores) if scores else None,
            "max_score": max_total,
            "histogram": _histogram(scores, max_total),
        },
        "tests": tests,
        "misconceptions": misconceptions,
        "chapters": chapters,
        "help_first": help_first,
    }


# ---------------------------------------------------------------------------------------
# HTML: one page, inline CSS and SVG, no script, no external resource

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #1b1b1b; line-height: 1.5; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #ddd;
         vertical-align: top; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.summary { display: flex; gap: 2rem; flex-wrap: wrap; }
.summary div { background: #f3f3f3; border-radius: .3rem; padding: .5rem 1rem; }
svg text { font: 12px system-ui, sans-serif; fill: #1b1b1b; }
"""


def _fmt(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}".rstrip("0").rstrip(".")


def _histogram_svg(histogram: list[list[float]]) -> str:
    """Vertical bars, one per bin, labelled with the bin's range and its count."""
    width, height, pad = 560, 200, 30
    n = len(histogram)
    top = max((c for _, _, c in histogram), default=0) or 1
    bar = (width - 2 * pad) / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" '
        'role="img" aria-label="score distribution">'
    ]
    for k, (lo, hi, count) in enumerate(histogram):
        h = (height - 2 * pad) * count / top
        x, y = pad + k * bar, height - pad - h
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{bar - 4:.1f}" height="{h:.1f}" '
            f'fill="#3b6ea8"><title>{_fmt(lo)}–{_fmt(hi)}: {count}</title></rect>'
        )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{count}</text>'
        )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{height - pad + 16:.1f}" '
            f'text-anchor="middle">{_fmt(lo, 1)}</text>'
        )
    parts.append(
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="#555"/>'
    )
    parts.append(
        f'<text x="{width / 2:.0f}" y="{height + 20}" text-anchor="middle">'
        "score (bins from the lower edge)</text></svg>"
    )
    return "".join(parts)


def _rate_svg(share: float) -> str:
    """A small horizontal bar: the share of graded submissions with full points."""
    w = 160
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="14" role="img" '
        f'aria-label="{share:.0%}"><rect width="{w}" height="14" fill="#e6e6e6"/>'
        f'<rect width="{w * share:.1f}" height="14" fill="#2f8a4c"/></svg>'
    )


def render_html(report: dict) -> str:
    """The report as one self-contained HTML page."""
    esc = html.escape
    a = report["assignment"]
    graded = report["graded"]
    score = report["score"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(a)}: what the class got wrong</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(a)}: what the class got wrong</h1>",
        '<div class="summary">',
        f"<div>{report['submissions']} submission(s)</div>",
        f"<div>{graded} graded</div>",
        f"<div>{report['ungradable']} could not be graded</div>",
        f"<div>mean {_fmt(score['mean'])} / {_fmt(score['max_score'])}</div>",
        f"<div>median {_fmt(score['median'])}</div>",
        "</div>",
        "<h2>Score distribution</h2>",
        _histogram_svg(score["histogram"]),
        "<h2>Tests</h2>",
        "<table><thead><tr><th>test</th><th>full points</th><th></th><th>zero</th>"
        "<th>mean</th></tr></thead><tbody>",
    ]
    for t in report["tests"]:
        share = t["full"] / graded if graded else 0.0
        parts.append(
            f"<tr><td><code>{esc(t['grade_id'])}</code></td>"
            f'<td class="num">{t["full"]} of {graded}</td><td>{_rate_svg(share)}</td>'
            f'<td class="num">{t["zero"]}</td>'
            f'<td class="num">{_fmt(t["mean"])} / {_fmt(t["max_score"])}</td></tr>'
        )
    parts.append("</tbody></table><h2>Misconceptions, most common first</h2>")
    if not report["misconceptions"]:
        parts.append("<p>No failed test with a recorded misconception.</p>")
    else:
        parts.append(
            "<p>Each failed test counts once, under the first misconception its checks "
            "revealed; the link opens the section of the book that teaches it.</p>"
            "<table><thead><tr><th>students</th><th>test</th><th>misconception</th>"
            "<th>who</th></tr></thead><tbody>"
        )
        for m in report["misconceptions"]:
            url = report["chapters"].get(m["category"], "")
            parts.append(
                f'<tr><td class="num">{m["count"]} ({m["share"]:.0%})</td>'
                f"<td><code>{esc(m['grade_id'])}</code></td>"
                f"<td><strong>{esc(m['category'])}</strong>: {esc(m['message'])} "
                f'<a href="{esc(url)}">read the section</a></td>'
                f"<td>{esc(', '.join(m['students']))}</td></tr>"
            )
        parts.append("</tbody></table>")
    parts.append("<h2>Students to help first</h2>")
    if not report["help_first"]:
        parts.append("<p>Everyone graded has full points.</p>")
    else:
        parts.append(
            "<table><thead><tr><th>student</th><th>score</th><th>why</th></tr></thead><tbody>"
        )
        for h in report["help_first"]:
            if h["status"] == "graded":
                why = ", ".join(h["misconceptions"]) or "points lost on written answers"
                shown = f"{_fmt(h['score'])} / {_fmt(h['max_score'])}"
            else:
                why = f"{h['status']}: {h['reason']}"
                shown = "not graded"
            parts.append(
                f"<tr><td><code>{esc(h['student'])}</code></td>"
                f'<td class="num">{esc(shown)}</td><td>{esc(why)}</td></tr>'
            )
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def run(args: argparse.Namespace) -> int:
    from autograder.batteries import ASSIGNMENTS
    from autograder.grading import gradebook
    from autograder.release import book_url

    course = Path(args.course)
    if args.assignment not in ASSIGNMENTS:
        print(
            f"error: unknown assignment {args.assignment!r}; one of {', '.join(ASSIGNMENTS)}",
            file=sys.stderr,
        )
        return 2
    if not course.is_dir():
        print(f"error: no course folder {course}", file=sys.stderr)
        return 2
    try:
        base_url = book_url()
    except (OSError, ValueError) as exc:
        print(f"error: the book's base URL: {exc}", file=sys.stderr)
        return 2
    gb = gradebook.open_gradebook(course, db_url=args.db)
    try:
        try:
            report = build(gb, args.assignment, base_url)
        except gradebook.import_nbgrader_api().MissingEntry:
            print(
                f"error: {args.assignment} is not in the gradebook: release and grade it first",
                file=sys.stderr,
            )
            return 2
    finally:
        gb.close()
    if args.format == "json":
        text = json.dumps(report, indent=2) + "\n"
    else:
        text = render_html(report)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
