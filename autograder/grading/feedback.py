"""Feedback HTML for one graded submission: a score per test and what to fix.

The page is self-contained (inline CSS, no script, no external resource) and is built
only from the verdicts' messages, which name misconceptions and never a hidden input;
no test code appears in it. Everything is HTML-escaped; a cell's error shows only the
name of a built-in exception (the sandbox's text was written where student code ran).
"""

from __future__ import annotations

import html
from pathlib import Path

from autograder.batteries.core import exception_name
from autograder.grading.gradebook import Result

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
       color: #1b1b1b; line-height: 1.5; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd;
         vertical-align: top; }
td.score { white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.pass td.score { color: #0a6b2d; }
tr.fail td.score { color: #a40e26; }
pre { white-space: pre-wrap; margin: 0; font: inherit; }
.status { padding: .6rem .8rem; border-radius: .3rem; background: #f3f3f3; }
"""

_STATUS_TEXT = {
    "graded": "Graded.",
    "ungradable": "Your submission could not be graded.",
    "timeout": "Your notebook's code did not finish within the time limit.",
    "crashed": "Your notebook's code ended the grading process before the tests could run.",
    "missing": "No submission was found.",
}


def render(result: Result, cell_errors: list[dict] | None = None) -> str:
    """Return the feedback page for ``result`` as an HTML string."""
    esc = html.escape
    title = f"{result.assignment} — feedback for {result.student}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(result.assignment)}</h1>",
        f"<p>Student: <code>{esc(result.student)}</code></p>",
    ]
    status = _STATUS_TEXT.get(result.status, result.status)
    parts.append(f'<p class="status"><strong>{esc(status)}</strong>')
    if result.reason:
        parts.append(f"<br>{esc(result.reason)}")
    parts.append("</p>")
    if result.tests:
        parts.append(
            f"<h2>Score: {result.score:g} / {result.max_score:g}</h2>"
            "<table><thead><tr><th>test</th><th>score</th><th>what to fix</th></tr>"
            "</thead><tbody>"
        )
        for t in result.tests:
            cls = "pass" if t.score >= t.max_score else "fail"
            parts.append(
                f'<tr class="{cls}"><td><code>{esc(t.grade_id)}</code></td>'
                f'<td class="score">{t.score:g} / {t.max_score:g}</td>'
                f"<td><pre>{esc(t.message)}</pre></td></tr>"
            )
        parts.append("</tbody></table>")
    if cell_errors:
        parts.append(
            "<h2>Cells that raised an error</h2><p>These cells of your notebook failed when "
            "it was run from top to bottom; what they define was not available to the "
            "tests.</p><ul>"
        )
        for err in cell_errors[:20]:
            number = err.get("cell")
            if type(number) is not int:  # only numbers: the sandbox's text is untrusted
                continue
            parts.append(
                f"<li>code cell {number}: "
                f"<code>{esc(exception_name(str(err.get('error'))))}</code></li>"
            )
        parts.append("</ul>")
    if result.notes:
        parts.append("<h2>Notes</h2><ul>")
        parts.extend(f"<li>{esc(n)}</li>" for n in result.notes)
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write(course: Path, result: Result, cell_errors: list[dict] | None = None) -> Path:
    """Write ``course/feedback/<student>/<a>/<a>.html`` and return its path."""
    folder = course / "feedback" / result.student / result.assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.assignment}.html"
    path.write_text(render(result, cell_errors), encoding="utf-8")
    return path
