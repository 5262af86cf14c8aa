"""Letter templates rendered to PDF in Chinese and English with the project's CJK font
(:func:`fieldcollect.core.pdf.cjk_document`): the demand letter (催收函), the lawyer's letter (律师函,
signed by the bank's partner law firm) and, for the US pack, the validation notice with the
itemization of Regulation F's model form (12 CFR 1006.34(c)(2): itemization date, amount on that
date, interest, fees and payments or credits since, amount now; the validation period's end and how
to dispute).

:class:`LetterData` is everything printed; the services build it from the case and keep its amounts
(integer fen) in the letter's ``facts``. Rendering is deterministic for the same data (the creation
date is the letter's date), so the stored SHA-256 identifies the document sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from fieldcollect.core.pdf import CJK, CJKFont, cjk_document, find_cjk_font

BANK_NAME_ZH = "新网银行"
BANK_NAME_EN = "XW Bank"


def yuan(fen: int) -> str:
    """``1234567`` → ``"12,345.67"`` (exact, from integer fen)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"


@dataclass(frozen=True)
class Itemization:
    """Regulation F's itemization of the debt (integer fen / cents)."""

    itemization_date: date
    amount_on_itemization_fen: int
    interest_fen: int = 0
    fees_fen: int = 0
    payments_credits_fen: int = 0

    @property
    def amount_now_fen(self) -> int:
        return self.amount_on_itemization_fen + self.interest_fen + self.fees_fen - self.payments_credits_fen

    def as_facts(self) -> dict[str, object]:
        return {
            "itemization_date": self.itemization_date.isoformat(),
            "amount_on_itemization_fen": self.amount_on_itemization_fen,
            "interest_fen": self.interest_fen,
            "fees_fen": self.fees_fen,
            "payments_credits_fen": self.payments_credits_fen,
            "amount_now_fen": self.amount_now_fen,
        }


@dataclass(frozen=True)
class LetterData:
    kind: str  # demand, lawyer, validation
    reference: str
    letter_date: date
    addressee: str
    address: str
    loan_ref: str
    overdue_fen: int
    dpd: int
    pay_by: date
    law_firm: str = ""
    lawyer: str = ""
    itemization: Itemization | None = None
    validation_ends: date | None = None
    extra: dict[str, str] = field(default_factory=dict)


TITLES = {
    "demand": ("催收函", "Demand for Payment"),
    "lawyer": ("律师函", "Lawyer's Letter"),
    "validation": ("债务核实通知", "Validation Notice"),
}


def paragraphs(d: LetterData) -> list[tuple[str, str]]:
    """The body of the letter: (Chinese, English) paragraph pairs."""
    amount, pay_by = yuan(d.overdue_fen), d.pay_by.isoformat()
    if d.kind == "demand":
        return [
            (
                f"您在{BANK_NAME_ZH}的贷款（编号 {d.loan_ref}）已逾期 {d.dpd} 天，逾期金额人民币 {amount} 元。",
                f"Your loan {d.loan_ref} with {BANK_NAME_EN} is {d.dpd} days past due; the overdue amount is CNY {amount}.",
            ),
            (
                f"请于 {pay_by} 前通过本行指定渠道还款。如有困难，请致电本行协商还款方案。",
                f"Please pay by {pay_by} through the bank's designated channels. If you are in difficulty, call the bank "
                "to agree a repayment plan.",
            ),
            (
                "本行及委托机构不会要求您向个人账户付款，也不会上门收取现金。",
                "Neither the bank nor its agencies will ask you to pay into a personal account or collect cash.",
            ),
        ]
    if d.kind == "lawyer":
        return [
            (
                f"{d.law_firm}受{BANK_NAME_ZH}委托，就您所欠贷款（编号 {d.loan_ref}）逾期 {d.dpd} 天、"
                f"逾期金额人民币 {amount} 元一事，特致函如下：",
                f"{d.law_firm}, acting for {BANK_NAME_EN}, writes to you about loan {d.loan_ref}, {d.dpd} days past "
                f"due with CNY {amount} overdue:",
            ),
            (
                f"请于 {pay_by} 前清偿上述欠款或与{BANK_NAME_ZH}协商还款方案。逾期未处理的，"
                "本所将建议委托人依法通过诉讼、仲裁或调解等途径主张权利。",
                f"Please pay the amount or agree a repayment plan with the bank by {pay_by}. Otherwise we will advise "
                "our client to assert its rights by litigation, arbitration or mediation as the law allows.",
            ),
            (
                "本函仅为催告，不构成对您的任何处罚。",
                "This letter is a notice only and imposes no penalty on you.",
            ),
        ]
    if d.kind == "validation":
        it = d.itemization
        assert it is not None and d.validation_ends is not None
        return [
            (
                f"{BANK_NAME_ZH}正在向您催收债务。我们将把获得的任何信息用于该目的。",
                f"{BANK_NAME_EN} is a debt collector. We are trying to collect a debt that you owe. "
                "We will use any information you give us to help collect the debt.",
            ),
            (
                f"截至 {it.itemization_date.isoformat()}，您欠款 {yuan(it.amount_on_itemization_fen)}。",
                f"As of {it.itemization_date.isoformat()}, you owed: {yuan(it.amount_on_itemization_fen)}",
            ),
            (
                f"此后新增利息：+ {yuan(it.interest_fen)}",
                f"Between {it.itemization_date.isoformat()} and today: You were charged this amount in interest: "
                f"+ {yuan(it.interest_fen)}",
            ),
            (
                f"此后新增费用：+ {yuan(it.fees_fen)}",
                f"You were charged this amount in fees: + {yuan(it.fees_fen)}",
            ),
            (
                f"此后已还款或抵扣：- {yuan(it.payments_credits_fen)}",
                f"You paid or were credited this amount toward the debt: - {yuan(it.payments_credits_fen)}",
            ),
            (
                f"您现在的欠款总额：{yuan(it.amount_now_fen)}",
                f"Total amount of the debt now: {yuan(it.amount_now_fen)}",
            ),
            (
                f"如您对债务有异议，请于 {d.validation_ends.isoformat()} 前书面告知我们，我们将在提供核实材料前暂停催收。",
                f"Call or write to us by {d.validation_ends.isoformat()} to dispute all or part of the debt. If you do "
                "not, we will assume that our information is correct. If you write to us by that date, we must stop "
                "collection on any amount you dispute until we send you information that shows you owe the debt.",
            ),
        ]
    raise ValueError(f"unknown letter kind {d.kind!r}")


def render_letter_pdf(d: LetterData, *, font: CJKFont | None = None) -> bytes:
    """The letter as PDF bytes (A4, Chinese and English). Raises FontNotFound without a CJK font."""
    cjk = font or find_cjk_font()
    title_zh, title_en = TITLES[d.kind]
    signer = d.law_firm if d.kind == "lawyer" else f"{BANK_NAME_ZH} {BANK_NAME_EN}"
    pdf = cjk_document(
        title=f"{title_zh} / {title_en} {d.reference}",
        created=datetime(d.letter_date.year, d.letter_date.month, d.letter_date.day),
        author=signer,
        margins=20,
        page_break_margin=20,
        font=cjk,
        footer=lambda page: f"{d.reference} · 第 {page}/{{nb}} 页 Page {page}/{{nb}}",
    )
    width = pdf.epw
    pdf.add_page()
    pdf.set_font(CJK, "", 16)
    pdf.cell(width, 9, title_zh, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(CJK, "", 12)
    pdf.cell(width, 7, title_en, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(CJK, "", 10)
    for line in (
        f"编号 Reference: {d.reference}",
        f"日期 Date: {d.letter_date.isoformat()}",
        f"致 To: {d.addressee}",
        f"地址 Address: {d.address}",
    ):
        pdf.multi_cell(width, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for zh, en in paragraphs(d):
        pdf.set_font(CJK, "", 10.5)
        pdf.multi_cell(width, 6, zh, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(CJK, "", 9.5)
        pdf.multi_cell(width, 5.5, en, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.ln(6)
    pdf.set_font(CJK, "", 10.5)
    if d.kind == "lawyer":
        pdf.multi_cell(width, 6, f"{d.law_firm}（盖章 seal）", align="R", new_x="LMARGIN", new_y="NEXT")
        if d.lawyer:
            pdf.multi_cell(width, 6, f"承办律师 Lawyer: {d.lawyer}", align="R", new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.multi_cell(width, 6, signer, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(width, 6, d.letter_date.isoformat(), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
