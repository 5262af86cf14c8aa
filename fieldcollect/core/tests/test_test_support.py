"""The test support lives once, in :mod:`fieldcollect.testing`: the browser is launched there only."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]


def test_only_the_testing_plugin_launches_the_browser():
    launching = [str(p.relative_to(PACKAGE.parent)) for p in sorted(PACKAGE.rglob("*.py"))
                 if p != Path(__file__).resolve() and "sync_playwright" in p.read_text(encoding="utf-8")]
    assert launching == ["fieldcollect/testing/browser.py"]
