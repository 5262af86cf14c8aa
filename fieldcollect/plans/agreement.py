"""The restructuring agreement as a bilingual (zh-Hans / English) PDF with the schedule, via fpdf2 and
the CJK font of :mod:`fieldcollect.core.pdf`.

Parsing a Noto CJK face takes fpdf2/fontTools about 1–2 s (more on a loaded machine), so callers
rendering on a request should do it in a background task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fieldcollect.core.pdf import CJKFont, cjk_document, find_cjk_font
from fieldcollect.plans.schedule import Schedule, fen_to_yuan

__all__ = [
    "AgreementData",
    "agreement_from_option",
    "format_yuan",
    "render_agreement_pdf",
]


def format_yuan(fen: int) -> str:
    """``1234567`` → ``"12,345.67"``."""
    return f"{fen_to_yuan(fen):,}"


@dataclass(frozen=True)
class AgreementData:
    """Everything printed in an agreement.

    Attributes
    ----------
    agreement_no
        Reference of the agreement.
    customer_name
        Customer's name as it should appear (masked if the reader may not see it in full).
    loan_ref
        Loan (contract) reference.
    schedule
        The new schedule.
    option_zh, option_en
        Name of the arrangement in both languages.
    total_owed_fen
        Everything owed on the restructuring date.
    waiver_fen
        Amount forgiven under the agreement.
    issued_on
        Date of issue (also used as the PDF's creation date, so output is reproducible).
    hardship_reason
        Recorded hardship reason.
    offer_expires_at
        Until when the customer may accept.
    bank_name_zh, bank_name_en
        The lender.
    note
        Extra line describing the option's parameters.
    """

    agreement_no: str
    customer_name: str
    loan_ref: str
    schedule: Schedule
    option_zh: str
    option_en: str
    total_owed_fen: int
    waiver_fen: int
    issued_on: date
    hardship_reason: str = ""
    offer_expires_at: datetime | None = None
    bank_name_zh: str = "新网银行"
    bank_name_en: str = "XW Bank"
    note: str = ""


def agreement_from_option(
    option: Any,
    *,
    agreement_no: str,
    customer_name: str,
    loan_ref: str,
    total_owed_fen: int,
    issued_on: date,
    hardship_reason: str = "",
    offer_expires_at: datetime | None = None,
) -> AgreementData:
    """Agreement data for a :class:`fieldcollect.plans.options.RestructureOption` (duck-typed)."""
    return AgreementData(
        agreement_no=agreement_no,
        customer_name=customer_name,
        loan_ref=loan_ref,
        schedule=option.schedule,
        option_zh=option.label_zh,
        option_en=option.label_en,
        total_owed_fen=total_owed_fen,
        waiver_fen=option.waiver_fen,
        issued_on=issued_on,
        hardship_reason=hardship_reason,
        offer_expires_at=offer_expires_at,
        note=option.note,
    )


TITLE_ZH = "还款计划调整协议"
TITLE_EN = "Repayment Plan Restructuring Agreement"

CLAUSES: tuple[tuple[str, str], ...] = (
    (
        "本协议所列还款计划自客户接受之日起取代原贷款合同中尚未履行的还款计划。",
        "From the customer's acceptance, the schedule below replaces the unperformed schedule of the loan contract.",
    ),
    (
        "还款仅可通过银行指定的还款渠道进行；催收人员不得收取现金，不收取任何额外费用。",
        "Payments are made only through the bank's designated channels; collectors never take cash; no extra fees.",
    ),
    (
        "任何一期在宽限期后仍未足额还款的，本计划终止，减免失效，原合同条款恢复适用。",
        "If any instalment is not paid in full after the grace period, this plan ends, waivers lapse and the "
        "original contract terms apply again.",
    ),
    (
        "客户通过银行发送的签名链接在有效期内确认接受本协议。",
        "The customer accepts this agreement through the signed link sent by the bank, before it expires.",
    ),
)


def render_agreement_pdf(data: AgreementData, *, font: CJKFont | None = None) -> bytes:
    """Render the agreement and return the PDF bytes.

    Parameters
    ----------
    data
        What to print.
    font
        CJK font to embed; found with :func:`find_cjk_font` when omitted.

    Raises
    ------
    FontNotFound
        If no CJK font is available.
    """
    from fpdf.fonts import FontFace

    cjk = font or find_cjk_font()
    pdf = cjk_document(
        title=f"{TITLE_ZH} / {TITLE_EN} {data.agreement_no}",
        created=datetime(data.issued_on.year, data.issued_on.month, data.issued_on.day),
        author=f"{data.bank_name_zh} {data.bank_name_en}",
        margins=15,
        page_break_margin=15,
        font=cjk,
        footer=lambda page: f"{data.agreement_no} · 第 {page}/{{nb}} 页 Page {page}/{{nb}}",
    )
    bold = "B" if cjk.bold_path is not None else ""
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("cjk", bold, 16)
    pdf.cell(width, 9, TITLE_ZH, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", bold, 12)
    pdf.cell(width, 7, TITLE_EN, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    schedule = data.schedule
    pdf.set_font("cjk", "", 9)
    facts = [
        ("协议编号 Agreement no.", data.agreement_no),
        ("贷款人 Lender", f"{data.bank_name_zh} {data.bank_name_en}"),
        ("客户 Customer", data.customer_name),
        ("贷款编号 Loan", data.loan_ref),
        ("签发日期 Issued on", data.issued_on.isoformat()),
        ("方案 Arrangement", f"{data.option_zh} / {data.option_en}"),
        ("当前欠款总额 Total owed (CNY)", format_yuan(data.total_owed_fen)),
        ("减免金额 Amount waived (CNY)", format_yuan(data.waiver_fen)),
        ("新本金 New principal (CNY)", format_yuan(schedule.principal_fen)),
        ("合同年利率 Contract annual rate", f"{schedule.annual_rate * 100:.4f}%"),
        (
            "年化利率(IRR) Annualised rate (APR/IRR)",
            f"{schedule.apr * 100:.4f}% (实际 effective {schedule.apr_effective * 100:.4f}%)",
        ),
        ("还款总额 Total to pay (CNY)", format_yuan(schedule.total_payment_fen)),
    ]
    if data.hardship_reason:
        facts.insert(4, ("困难原因 Hardship reason", data.hardship_reason))
    if data.offer_expires_at is not None:
        facts.append(("接受期限 Accept by", data.offer_expires_at.isoformat(timespec="minutes")))
    if data.note:
        facts.append(("说明 Note", data.note))
    with pdf.table(
        col_widths=(70, width - 70),
        first_row_as_headings=False,
        line_height=5.5,
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        for label, value in facts:
            row = table.row()
            row.cell(label)
            row.cell(value)
    pdf.ln(4)

    pdf.set_font("cjk", bold, 11)
    pdf.cell(width, 7, "还款计划 Repayment schedule (CNY)", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", "", 8.5)
    headings = ("期数\nNo.", "到期日\nDue date", "本金\nPrincipal", "利息\nInterest", "应还金额\nPayment", "剩余本金\nBalance")
    with pdf.table(
        col_widths=(12, 26, 28, 28, 30, 30),
        text_align=("CENTER", "CENTER", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=4.8,
        repeat_headings=1,
        headings_style=FontFace(emphasis=None, fill_color=(230, 236, 245)),
    ) as table:
        head = table.row()
        for h in headings:
            head.cell(h)
        for inst in schedule.instalments:
            row = table.row()
            row.cell(str(inst.seq))
            row.cell(inst.due_date.isoformat())
            row.cell(format_yuan(inst.principal_fen))
            row.cell(format_yuan(inst.interest_fen))
            row.cell(format_yuan(inst.payment_fen))
            row.cell(format_yuan(inst.closing_fen))
        total = table.row()
        total.cell("合计 Total", colspan=2)
        total.cell(format_yuan(schedule.total_principal_fen))
        total.cell(format_yuan(schedule.total_interest_fen))
        total.cell(format_yuan(schedule.total_payment_fen))
        total.cell("")
    if schedule.total_capitalised_fen:
        pdf.set_font("cjk", "", 8)
        pdf.multi_cell(
            width,
            4.5,
            f"其中资本化利息 {format_yuan(schedule.total_capitalised_fen)} 元计入本金。"
            f" Of which {format_yuan(schedule.total_capitalised_fen)} CNY of interest is capitalised.",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(4)

    pdf.set_font("cjk", bold, 11)
    pdf.cell(width, 7, "条款 Terms", new_x="LMARGIN", new_y="NEXT")
    for n, (zh, en) in enumerate(CLAUSES, start=1):
        pdf.set_font("cjk", "", 9)
        pdf.multi_cell(width, 5, f"{n}. {zh}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", "", 8.5)
        pdf.set_text_color(70, 70, 70)
        pdf.multi_cell(width, 4.5, f"   {en}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.ln(1)
    pdf.ln(6)
    pdf.set_font("cjk", "", 9)
    pdf.cell(width / 2, 6, "贷款人（盖章）Lender (seal): ____________")
    pdf.cell(width / 2, 6, "客户（电子确认）Customer (e-acceptance): ____________", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
