"""The shared PDF module: one place finds and registers the CJK font for every PDF writer."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from fieldcollect.core.pdf import CJK, FontNotFound, cjk_document, find_cjk_font

PACKAGE = Path(__file__).resolve().parents[2]


def _sources() -> list[tuple[str, str]]:
    return [(str(p.relative_to(PACKAGE)), p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.rglob("*.py"))
            if "tests" not in p.parts]


def test_only_core_pdf_finds_or_registers_a_font() -> None:
    """Writers (agreements, statements, the management report, letters, receipts) start their document with
    ``cjk_document``; none builds an FPDF, registers a font or looks for one itself."""
    offenders = [name for name, text in _sources() if name != "core/pdf.py" and re.search(
        r"\badd_font\(|\bFPDF\(|def (_?find_cjk_font|_face_index)\b|class FontNotFound\b|FALLBACK_FONTS =", text)]
    assert offenders == []
    writers = [name for name, text in _sources() if "cjk_document(" in text and name != "core/pdf.py"]
    assert sorted(writers) == ["legal/letters.py", "payments/links.py", "plans/agreement.py", "reports/management.py",
                              "settlement/exports.py"]


def test_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FIELDCOLLECT_CJK_FONT", str(tmp_path / "nope.ttc"))
    with pytest.raises(FontNotFound, match="missing"):
        cjk_document(title="t", created=datetime(2026, 1, 1), page_break_margin=12)


def test_document_has_the_font_metadata_and_footer() -> None:
    try:
        font = find_cjk_font()
    except FontNotFound:
        pytest.skip("no CJK font")
    pdf = cjk_document(title="标题 Title", created=datetime(2026, 3, 31), page_break_margin=15, margins=15,
                       author="银行 Bank", font=font, footer=lambda page: f"第 {page}/{{nb}} 页")
    assert (pdf.l_margin, pdf.t_margin, pdf.r_margin, pdf.b_margin) == (15, 15, 15, 15)
    pdf.add_page()
    pdf.set_font(CJK, "", 10)
    pdf.cell(0, 5, "还款")
    pdf.add_page()
    out = bytes(pdf.output())
    assert out.startswith(b"%PDF-")
    assert b"D:20260331" in out  # the creation date given, so output is reproducible
    assert pdf.page_no() == 2
    landscape = cjk_document(title="t", created=datetime(2026, 1, 1), page_break_margin=12, orientation="L",
                             font=font)
    landscape.add_page()
    assert landscape.w > landscape.h and landscape.l_margin == pytest.approx(10, abs=0.01)
