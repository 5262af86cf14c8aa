"""The test support lives once, in :mod:`fieldcollect.testing`: the browser is launched there only, the
tests' password hashers are set there only."""

from __future__ import annotations

from pathlib import Path

from fieldcollect.testing.passwords import FAST_HASHERS

PACKAGE = Path(__file__).resolve().parents[2]


def test_only_the_testing_plugin_launches_the_browser():
    launching = [str(p.relative_to(PACKAGE.parent)) for p in sorted(PACKAGE.rglob("*.py"))
                 if p != Path(__file__).resolve() and "sync_playwright" in p.read_text(encoding="utf-8")]
    assert launching == ["fieldcollect/testing/browser.py"]


def test_password_hashers_are_set_for_tests_in_one_place_and_apply_everywhere(settings):
    setting_it = [str(p.relative_to(PACKAGE.parent)) for p in sorted(PACKAGE.rglob("*.py"))
                  if p != Path(__file__).resolve() and ("/tests/" in p.as_posix() or p.parent.name == "testing")
                  and "PASSWORD_HASHERS =" in p.read_text(encoding="utf-8")]
    assert setting_it == ["fieldcollect/testing/passwords.py"]
    assert settings.PASSWORD_HASHERS == FAST_HASHERS  # the root conftest's plugin applies to this app's tests too
