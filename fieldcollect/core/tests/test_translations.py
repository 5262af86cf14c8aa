"""Every UI string has its Simplified Chinese translation: the catalogue is extracted afresh from the
code and templates (``makemessages``, in a copy of the package) and no entry may be missing, empty or
fuzzy (a fuzzy entry is not compiled: the page would show English)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs gettext (xgettext, msgmerge)")


def _entries(po: str) -> list[tuple[str, str, str]]:
    """(comments and flags, msgid, msgstr) of every entry but the header; continued lines joined."""
    out = []
    for block in po.split("\n\n"):
        lines = block.strip().splitlines()
        head = "\n".join(line for line in lines if line.startswith("#"))
        text = "\n".join(line for line in lines if not line.startswith("#"))
        m = re.match(r'msgid ((?:".*"\n?)+)msgstr ((?:".*"\n?)+)', text + "\n")
        if m is None:
            continue
        msgid = "".join(re.findall(r'"(.*)"', m.group(1)))
        msgstr = "".join(re.findall(r'"(.*)"', m.group(2)))
        if msgid:
            out.append((head, msgid, msgstr))
    return out


def test_every_ui_string_has_a_chinese_translation(tmp_path):
    copy = tmp_path / "fieldcollect"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "static"))
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "config.settings",
                        "PYTHONPATH": os.pathsep.join([str(PACKAGE.parent), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-m", "django", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
                   cwd=copy, env=env, check=True, capture_output=True)
    po = (copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = _entries(po)
    assert len(entries) > 1000
    untranslated = [msgid for _, msgid, msgstr in entries if not msgstr]
    fuzzy = [msgid for head, msgid, _ in entries if "fuzzy" in head]
    assert not untranslated, f"strings without a zh-Hans translation (run makemessages and fill them): {untranslated}"
    assert not fuzzy, f"fuzzy entries (not compiled, shown in English): {fuzzy}"
