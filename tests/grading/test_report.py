"""``python -m autograder report``: a graded ps4 class, its JSON and its HTML page.

Six students hand in ps4 through the real CLI: one correct, two with the sign error of
binary cross-entropy (one of them also without the max shift in softmax cross-entropy),
one without the max shift only, one whose 'mean' of sigmoid cross-entropy is a sum, and
one whose file is not a notebook. Every expected number below is counted by hand from
that list and the points of the notebook's cells (3 + 2 + 2 + 2 + 2 + 2 auto, 1 manual).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from docutils.nodes import make_id
from grading_helpers import REPO, run_cli

from autograder.grading import report
from autograder.release import book_url

pytestmark = pytest.mark.slow

PS4 = "ps4_classification_losses"
SOURCE = REPO / "solutions" / PS4 / f"{PS4}.ipynb"

BCE_SIGN = """
def binary_cross_entropy(probs, target, *, reduction="mean"):
    probs = np.asarray(probs, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if np.any((probs < 0) | (probs > 1)):
        raise ValueError("probs must be in [0, 1]")
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(probs), -100.0)
        log_not_p = np.maximum(np.log1p(-probs), -100.0)
    losses = -(target * log_p) + (1.0 - target) * log_not_p  # the minus stops too early
    if reduction == "none":
        return losses
    return np.sum(losses) if reduction == "sum" else np.mean(losses)
"""

SCE_NO_SHIFT = """
def softmax_cross_entropy(logits, target, *, reduction="mean"):
    logits = np.asarray(logits, dtype=np.float64)
    target = np.asarray(target)
    n, c = logits.shape
    if target.dtype.kind not in "iu" or np.any((target < 0) | (target >= c)):
        raise ValueError("bad target")
    log_probs = logits - np.log(np.sum(np.exp(logits), axis=-1, keepdims=True))
    losses = -log_probs[np.arange(n), target]
    if reduction == "none":
        return losses
    return np.sum(losses) if reduction == "sum" else np.mean(losses)
"""

SIGMOID_SUM_FOR_MEAN = """
def sigmoid_cross_entropy(logits, target, *, reduction="mean"):
    x = np.asarray(logits, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    losses = np.maximum(x, 0.0) - x * t + np.log1p(np.exp(-np.abs(x)))
    if reduction == "none":
        return losses
    return np.sum(losses)  # 'mean' forgotten
"""

#: student -> answer cells replaced (the others are the source's correct answers)
CLASS = {
    "alice": {},
    "bob": {"binary_cross_entropy": BCE_SIGN},
    "carol": {"binary_cross_entropy": BCE_SIGN, "softmax_cross_entropy": SCE_NO_SHIFT},
    "dave": {"softmax_cross_entropy": SCE_NO_SHIFT},
    "frank": {"sigmoid_cross_entropy": SIGMOID_SUM_FOR_MEAN},
}
UNGRADABLE = "erin<i>"  # markup in a student id must reach the page escaped


def _submission(replace: dict[str, str]) -> dict:
    nb = json.loads(SOURCE.read_text(encoding="utf-8"))
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in replace:
            cell["source"] = replace[gid]
    return nb


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("report-course")
    for student, replace in CLASS.items():
        folder = course / "submitted" / student / PS4
        folder.mkdir(parents=True)
        (folder / f"{PS4}.ipynb").write_text(json.dumps(_submission(replace)), encoding="utf-8")
    folder = course / "submitted" / UNGRADABLE / PS4
    folder.mkdir(parents=True)
    (folder / f"{PS4}.ipynb").write_text("this is not JSON", encoding="utf-8")
    proc = run_cli("grade", PS4, "--course", str(course), "--jobs", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return course


@pytest.fixture(scope="module")
def as_json(graded_class) -> dict:
    proc = run_cli("report", PS4, "--course", str(graded_class), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_counts_submissions_graded_and_ungradable(as_json):
    """Does the report count six submissions, five graded and one ungradable?"""
    assert as_json["assignment"] == PS4
    assert (as_json["submissions"], as_json["graded"], as_json["ungradable"]) == (6, 5, 1)


def test_score_distribution(as_json):
    """Are mean, median and histogram those of the scores 14−1, 14−5, 14−7, 14−3, 14−3?

    Out of 14 (13 auto + 1 written, not yet graded by hand): alice 13, bob 9 (both BCE
    cells), carol 7 (and the stable softmax cell), dave 11, frank 11 (the sigmoid cell).
    """
    score = as_json["score"]
    assert score["max_score"] == 14
    assert score["mean"] == pytest.approx(51 / 5)
    assert score["median"] == 11
    histogram = score["histogram"]
    assert len(histogram) == 10 and histogram[0][0] == 0 and histogram[-1][1] == pytest.approx(14)
    assert [count for _, _, count in histogram] == [0, 0, 0, 0, 0, 1, 1, 2, 0, 1]


def test_per_test_rates(as_json):
    """Does each test cell report its mean and how many got full or zero points?"""
    tests = {t["grade_id"]: t for t in as_json["tests"]}
    assert list(tests) == [
        "test_softmax_cross_entropy",
        "test_softmax_cross_entropy_stable",
        "test_binary_cross_entropy",
        "test_binary_cross_entropy_edges",
        "test_sigmoid_cross_entropy",
        "test_sigmoid_cross_entropy_stable",
    ]
    assert tests["test_softmax_cross_entropy"] == {
        "grade_id": "test_softmax_cross_entropy",
        "max_score": 3,
        "mean": 3,
        "full": 5,
        "zero": 0,
    }
    stable = tests["test_softmax_cross_entropy_stable"]  # carol and dave lose 2 points
    assert (stable["mean"], stable["full"], stable["zero"]) == (pytest.approx(6 / 5), 3, 2)
    bce = tests["test_binary_cross_entropy"]  # bob and carol
    assert (bce["mean"], bce["full"], bce["zero"]) == (pytest.approx(6 / 5), 3, 2)
    sig = tests["test_sigmoid_cross_entropy"]  # frank
    assert (sig["mean"], sig["full"], sig["zero"]) == (pytest.approx(8 / 5), 4, 1)
    assert tests["test_sigmoid_cross_entropy_stable"]["full"] == 5  # a wrong mean is no overflow


def test_misconceptions_ranked_with_students(as_json):
    """Are the misconceptions the real causes, ranked by count, with their students?"""
    found = [(m["grade_id"], m["category"], m["students"]) for m in as_json["misconceptions"]]
    assert found == [
        ("test_softmax_cross_entropy_stable", "overflow", ["carol", "dave"]),
        ("test_binary_cross_entropy", "sign", ["bob", "carol"]),
        ("test_binary_cross_entropy_edges", "sign", ["bob", "carol"]),
        ("test_sigmoid_cross_entropy", "reduction", ["frank"]),
    ]
    first = as_json["misconceptions"][0]
    assert (first["count"], first["share"]) == (2, pytest.approx(0.4))
    assert "subtract each row's max" in first["message"]
    assert as_json["misconceptions"][1]["message"].startswith("wrong sign")


def test_chapter_links_use_the_one_base_url_and_real_sections(as_json):
    """Does every category link to a heading that exists in the book, under html.baseurl?"""
    base = book_url()
    assert set(as_json["chapters"]) == {"overflow", "sign", "reduction"}
    for url in as_json["chapters"].values():
        assert url.startswith(base + "/book/")
        page, _, anchor = url.removeprefix(base + "/book/").partition("#")
        assert _anchors(page.removesuffix(".html")) >= ({anchor} if anchor else set()), url


def test_students_to_help_first(as_json):
    """Does the list start with the ungradable student, then the lowest scores, leaving out
    alice, whose only missing point is a written answer still waiting for its grade?"""
    first = [(h["student"], h["status"], h["score"]) for h in as_json["help_first"]]
    assert first == [
        (UNGRADABLE, "ungradable", None),
        ("carol", "graded", 7),
        ("bob", "graded", 9),
        ("dave", "graded", 11),
        ("frank", "graded", 11),
    ]
    assert as_json["help_first"][1]["misconceptions"] == ["overflow", "sign"]


def test_html_is_one_self_contained_page(graded_class, tmp_path):
    """Is the HTML page free of scripts and external resources, with figures inline?"""
    out = tmp_path / "report.html"
    proc = run_cli("report", PS4, "--course", str(graded_class), "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<link" not in page and "<img" not in page
    assert not re.search(r"""(src|srcset)\s*=""", page), "no resource is loaded"
    assert not re.search(r"url\(", page), "no CSS url()"
    assert page.count("<svg") >= 2  # the histogram and at least one pass-rate bar
    base = book_url()
    links = re.findall(r'<a href="([^"]+)"', page)
    assert links and all(link.startswith(base) for link in links)
    assert "erin&lt;i&gt;" in page and "erin<i>" not in page
    overflow = page.index("carol, dave")
    assert overflow < page.index("bob, carol") < page.index("frank</td>")  # ranked


def test_unknown_assignment_and_missing_course_are_operator_errors(tmp_path):
    """Do an unknown assignment and a missing course exit 2 with a message?"""
    proc = run_cli("report", "ps9_nothing", "--course", str(tmp_path))
    assert proc.returncode == 2 and "unknown assignment" in proc.stderr
    proc = run_cli("report", PS4, "--course", str(tmp_path / "nope"))
    assert proc.returncode == 2 and "no course folder" in proc.stderr
    proc = run_cli("report", PS4, "--course", str(tmp_path))
    assert proc.returncode == 2 and "not in the gradebook" in proc.stderr


def test_db_option_selects_the_gradebook(graded_class, tmp_path):
    """Does --db read the gradebook at that URL instead of the course's?"""
    url = f"sqlite:///{graded_class / 'gradebook.db'}"
    proc = run_cli("report", PS4, "--course", str(tmp_path), "--db", url, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["graded"] == 5


def _anchors(page: str) -> set[str]:
    """The ids Sphinx gives the headings of ``book/<page>.md``."""
    text = (REPO / "book" / f"{page}.md").read_text(encoding="utf-8")
    return {make_id(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}


@pytest.mark.parametrize(
    "target", sorted({*report.SECTIONS.values(), *report.SECTION_OVERRIDES.values()})
)
def test_every_section_exists_in_the_book(target):
    """Does every section the report links to exist as a heading of its chapter?"""
    page, _, anchor = target.partition("#")
    assert anchor in _anchors(page), target
