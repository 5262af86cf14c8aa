"""The page helpers live in one module (``core/pages.py``), not in a copy per app."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from django.test import RequestFactory

from fieldcollect.core.pages import month_param
from fieldcollect.core.params import InvalidParameters

PACKAGE = Path(__file__).resolve().parents[2]


def test_page_helpers_are_defined_once() -> None:
    defined = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if "tests" not in p.parts
                     and re.search(r"^def (errors_as_pages|month_param|user_of|request_user)\b",
                                   p.read_text(encoding="utf-8"), re.M))
    assert defined == ["core/pages.py"]


def test_month_param_reads_the_query_then_the_form_then_the_default() -> None:
    rf = RequestFactory()
    assert month_param(rf.get("/", {"month": "2026-02"})) == date(2026, 2, 1)
    assert month_param(rf.post("/", {"month": "2026-03"})) == date(2026, 3, 1)
    assert month_param(rf.get("/"), default=date(2025, 12, 1)) == date(2025, 12, 1)
    assert month_param(rf.get("/")).day == 1
    with pytest.raises(InvalidParameters):
        month_param(rf.get("/", {"month": "2026-13"}))
