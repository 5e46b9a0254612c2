"""Session-wide pytest hooks."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # make `tests/ulp.py` importable as `ulp`


def pytest_terminal_summary(terminalreporter):
    """Print the worst ULP error per function measured by the accuracy tests."""
    from ulp import WORST

    if not WORST:
        return
    terminalreporter.section("worst error against mpmath (ULP, float64)")
    for name in sorted(WORST):
        terminalreporter.write_line(f"{name:<40s} {WORST[name]:8.2f}")
