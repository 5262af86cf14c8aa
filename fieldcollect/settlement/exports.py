"""Statement exports: CSV and PDF (fpdf2, CJK document from :mod:`fieldcollect.core.pdf`) in
Simplified Chinese or English. Amounts are printed from integer fen (exact)."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from fieldcollect.core.cells import safe_csv_writer
from fieldcollect.core.pdf import cjk_document, find_cjk_font
from fieldcollect.core.templatetags.fc import yuan
from fieldcollect.settlement.models import Statement
from fieldcollect.settlement.selectors import reconcile, statement_lines

LANGUAGES = ("zh-hans", "en")


def _lang(lang: str) -> str:
    return lang if lang in LANGUAGES else "zh-hans"


def _headers() -> list[str]:
    return [_("Payment"), _("Case"), _("Paid on"), _("Bucket at placement"), _("Amount (CNY)"), _("Rate"),
            _("Commission (CNY)"), _("Disputed"), _("Reason")]


def cny(fen: int) -> Decimal:
    """Integer fen as a yuan amount with two decimals (exact; a number in the file, negative or not)."""
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def statement_table(statement: Statement, *, lang: str) -> tuple[list[str], list[list[Any]]]:
    """Columns and rows of the statement: one row per line, then the totals. Amounts are numbers
    (``Decimal`` yuan), text is text (a dispute reason is neutralised by the writers, see
    :mod:`fieldcollect.core.cells`)."""
    with translation.override(_lang(lang)):
        rows: list[list[Any]] = []
        for line in statement_lines(statement=statement):
            rows.append([line.payment_id, line.case_id, line.paid_on.isoformat(), line.bucket,
                         cny(line.amount_fen), line.rate.quantize(Decimal("0.0001")), cny(line.commission_fen),
                         _("yes") if line.disputed else "", line.dispute_reason])
        rows.append([_("Total"), "", "", "", cny(statement.payments_fen), "", cny(statement.commission_fen), "", ""])
        rows.append([_("Disputed"), "", "", "", "", "", cny(statement.disputed_commission_fen), "", ""])
        rows.append([_("Payable"), "", "", "", "", "", cny(statement.payable_fen), "", ""])
        return _headers(), rows


def statement_title(statement: Statement, *, lang: str) -> str:
    with translation.override(_lang(lang)):
        return f"{_('Commission statement')} {statement.agency.name} {statement.month:%Y-%m}"


def statement_csv(statement: Statement, *, lang: str) -> str:
    """CSV text: a title row, one row per line, then the totals (for the bank's own use; what leaves
    the system goes through :func:`fieldcollect.privacy.exports.export_table`, see the view)."""
    columns, rows = statement_table(statement, lang=lang)
    buf = io.StringIO()
    w = safe_csv_writer(buf)  # an agency's dispute reason cannot run as a formula
    w.writerow([statement_title(statement, lang=lang)])
    w.writerow(columns)
    w.writerows(rows)
    return buf.getvalue()


def statement_pdf(statement: Statement, *, lang: str) -> bytes:
    """PDF bytes of the statement (raises ``FontNotFound`` without a CJK font)."""
    cjk = find_cjk_font()
    with translation.override(_lang(lang)):
        rec = reconcile(statement=statement)
        pdf = cjk_document(title=f"{_('Commission statement')} {statement.agency.pk} {statement.month:%Y-%m}",
                           created=datetime(statement.month.year, statement.month.month, 1),
                           orientation="L", page_break_margin=12, font=cjk)
        pdf.add_page()
        pdf.set_font("cjk", "", 14)
        pdf.cell(0, 8, f"{_('Commission statement')} · {statement.agency.name} · {statement.month:%Y-%m}",
                 new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", "", 9)
        pdf.cell(0, 6, f"{_('Status')}: {statement.get_status_display()}", new_x="LMARGIN", new_y="NEXT")
        widths = [22, 22, 24, 26, 34, 18, 34, 18, 69]
        heads = _headers()
        for w, h in zip(widths, heads, strict=True):
            pdf.cell(w, 6, h, border=1)
        pdf.ln()
        for line in statement_lines(statement=statement):
            cells = [str(line.payment_id), str(line.case_id), line.paid_on.isoformat(), line.bucket,
                     yuan(line.amount_fen), f"{line.rate:.4f}", yuan(line.commission_fen),
                     _("yes") if line.disputed else "", line.dispute_reason[:40]]
            for k, (w, c) in enumerate(zip(widths, cells, strict=True)):
                pdf.cell(w, 6, c, border=1, align="R" if k in (4, 5, 6) else "L")
            pdf.ln()
        pdf.ln(2)
        for label, fen in ((_("Total payments (CNY)"), statement.payments_fen),
                           (_("Total commission (CNY)"), statement.commission_fen),
                           (_("Disputed (CNY)"), statement.disputed_commission_fen),
                           (_("Payable (CNY)"), statement.payable_fen)):
            pdf.cell(70, 6, label)
            pdf.cell(40, 6, yuan(fen), align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.cell(0, 6, f"{_('Reconciliation')}: {_('balanced') if rec.ok else _('NOT balanced')}",
                 new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())
