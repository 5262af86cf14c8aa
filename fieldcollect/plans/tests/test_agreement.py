"""The bilingual agreement PDF: Chinese title, amounts and the schedule are really in the text."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from fieldcollect.core.pdf import FontNotFound, find_cjk_font
from fieldcollect.plans.agreement import (
    TITLE_EN,
    TITLE_ZH,
    AgreementData,
    agreement_from_option,
    format_yuan,
    render_agreement_pdf,
)
from fieldcollect.plans.options import HardshipCase, payment_holiday
from fieldcollect.plans.schedule import build_schedule


def pdf_text(pdf: bytes) -> str:
    """Text of the PDF with all whitespace removed (extractors space CJK glyphs differently).

    Poppler's pdftotext is the reference; pypdf is the fallback (it interleaves NUL characters with
    the glyphs of fpdf2's CID fonts, which are dropped here).
    """
    if shutil.which("pdftotext") is not None:
        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(pdf)
            f.flush()
            text = subprocess.run(["pdftotext", "-enc", "UTF-8", f.name, "-"], capture_output=True, check=True,
                                  text=True).stdout
    else:
        try:
            from pypdf import PdfReader
        except ImportError:
            pytest.fail("need pdftotext (Debian poppler-utils) or pypdf to read the PDF")
        text = "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"[\s\x00]+", "", text)


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


@pytest.fixture(scope="module")
def case() -> HardshipCase:
    return HardshipCase(reason="job_loss", monthly_income_fen=400_000, monthly_expenses_fen=250_000,
                        outstanding_principal_fen=800_000, arrears_principal_fen=180_000, arrears_interest_fen=30_000,
                        arrears_penalty_fen=12_000, remaining_term_months=8, annual_rate=Decimal("0.18"),
                        as_of=date(2026, 6, 30))


@pytest.fixture(scope="module")
def rendered(case: HardshipCase) -> tuple[AgreementData, bytes]:
    option = payment_holiday(case, months=3)
    data = agreement_from_option(
        option,
        agreement_no="RP-2026-000123",
        customer_name="张*明",
        loan_ref="L0000012345",
        total_owed_fen=case.total_owed_fen,
        issued_on=case.as_of,
        hardship_reason="失业 job loss",
        offer_expires_at=datetime(2026, 7, 7, 23, 59, tzinfo=UTC),
    )
    return data, render_agreement_pdf(data)


def test_font_is_found() -> None:
    font = find_cjk_font()
    assert font.path.is_file()
    if font.path.name == "NotoSansCJK-Regular.ttc":
        assert font.index == 2  # the Simplified Chinese face of the collection


def test_pdf_contains_bilingual_title_and_amounts(rendered: tuple[AgreementData, bytes]) -> None:
    data, pdf = rendered
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert TITLE_ZH in text
    assert TITLE_EN.replace(" ", "") in text
    assert "还款计划" in text and "延期还款" in text and "张*明" in text
    assert format_yuan(data.total_owed_fen) == "10,220.00"
    assert "Totalowed(CNY)10,220.00" in text
    schedule = data.schedule
    assert format_yuan(schedule.total_payment_fen) in text
    for inst in schedule.instalments:
        assert inst.due_date.isoformat() in text
        assert format_yuan(inst.payment_fen) in text
    assert f"{schedule.apr * 100:.4f}%" in text
    assert "指定的还款渠道" in text  # payments only into the bank's designated channels


def test_long_schedule_spans_pages_with_repeated_headings() -> None:
    schedule = build_schedule(principal_fen=10_000_000, annual_rate=Decimal("0.12"), term_months=60,
                              method="equal-principal", start=date(2026, 1, 31))
    data = AgreementData(agreement_no="RP-2", customer_name="李*", loan_ref="L2", schedule=schedule,
                         option_zh="延长期限", option_en="Term extension", total_owed_fen=10_000_000, waiver_fen=0,
                         issued_on=date(2026, 1, 31))
    pdf = render_agreement_pdf(data, font=find_cjk_font())
    assert page_count(pdf) >= 2
    text = pdf_text(pdf)
    assert text.count("到期日") >= 2  # the table heading is repeated on the next page
    assert "2031-01-31" in text  # the 60th instalment (month-end clamped dates)
    assert "2026-02-28" in text
    assert f"第2/{page_count(pdf)}页Page2/{page_count(pdf)}" in text  # numbered footer


def test_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FIELDCOLLECT_CJK_FONT", str(tmp_path / "nope.ttc"))
    with pytest.raises(FontNotFound, match="missing"):
        find_cjk_font()


def test_creation_date_is_the_issue_date(rendered: tuple[AgreementData, bytes]) -> None:
    # fixed metadata makes the output reproducible for the same data
    _, pdf = rendered
    assert b"/CreationDate (D:20260630" in pdf
