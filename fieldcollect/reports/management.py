"""The monthly management report as a PDF (fpdf2, the CJK document of :mod:`fieldcollect.core.pdf`),
with the dashboards' figures drawn as images (:mod:`.static_charts`) and their key tables.

The report covers the month of ``as_of`` up to ``as_of`` for the whole bank (it is a bank document),
in Simplified Chinese or English. Output is reproducible: the PDF's creation date is ``as_of``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from fieldcollect.core.pdf import cjk_document, find_cjk_font
from fieldcollect.reports import compute, dashboards
from fieldcollect.reports.dashboards import Dashboard, Table
from fieldcollect.reports.selectors import Scope

LANGS = {"zh-hans": "zh-hans", "zh-Hans": "zh-hans", "zh": "zh-hans", "en": "en"}
SECTIONS = ("portfolio", "recovery", "agencies", "conduct", "models")
# (dashboard, table, columns shown (None: all), max rows)
PDF_TABLES: tuple[tuple[str, str, tuple[str, ...] | None, int], ...] = (
    ("portfolio", "buckets", None, 20),
    ("recovery", "channels", ("agency", "channel", "payments", "recovered_cny"), 30),
    ("recovery", "promises", None, 30),
    ("agencies", "leaderboard", ("rank", "agency", "finished_placements", "ae_index", "cost_per_yuan",
                                 "promise_kept_rate_pct", "complaints_per_10k_contacts", "compliance_blocks"), 30),
    ("conduct", "blocked", None, 20),
    ("conduct", "complaints", ("agency", "contacts", "complaints_per_10k_contacts"), 30),
    ("models", "models", None, 20),
)

WIDE_COLUMNS = frozenset({"agency", "channel", "rule", "model"})

Progress = Callable[[str], None]


def normalise_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"language must be zh-Hans or en, got {lang!r}")
    return LANGS[lang]


@dataclass
class ReportParts:
    as_of: date
    lang: str
    boards: dict[str, Dashboard]
    kpis: list[tuple[str, str]]


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return _("yes") if v else _("no")
    if isinstance(v, Decimal):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def collect(*, as_of: date, lang: str, progress: Progress | None = None) -> ReportParts:
    """Build the dashboards the report shows (bank-wide) and its key figures."""
    lang = normalise_lang(lang)
    with translation.override(lang):
        params = dashboards.Params(as_of=as_of, day=as_of)
        boards: dict[str, Dashboard] = {}
        for key in SECTIONS:
            if progress:
                progress(key)
            boards[key] = dashboards.build(key, scope=Scope(None), params=params)
        return ReportParts(as_of=as_of, lang=lang, boards=boards, kpis=_kpis(boards, as_of))


def _kpis(boards: dict[str, Dashboard], as_of: date) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    port = boards["portfolio"]
    buckets = port.table("buckets")
    trend = port.table("trend")
    if buckets is not None:
        out.append((_("Loans on book"), _fmt(sum(r[1] for r in buckets.rows))))
        out.append((_("Outstanding principal (CNY)"), _fmt(sum((r[2] or Decimal(0)) for r in buckets.rows))))
        out.append((_("Overdue (CNY)"), _fmt(sum((r[4] or Decimal(0)) for r in buckets.rows))))
    if trend is not None and trend.rows:
        out.append((_("30+ dpd share of balance"), f"{trend.rows[-1][1]:.2f}%"))
    month = compute.month_key(as_of)
    cost = boards["recovery"].table("cost")
    if cost is not None:
        total = [r for r in cost.rows if r[0] == _("All agencies") and r[1] == month]
        if total:
            out.append((_("Recovered this month (CNY)"), _fmt(total[0][2])))
            out.append((_("Commission this month (CNY)"), _fmt(total[0][3])))
            out.append((_("Cost per yuan recovered"), _fmt(total[0][4])))
    promises = boards["recovery"].table("promises")
    if promises is not None:
        total = [r for r in promises.rows if r[0] == _("All agencies") and r[1] == month]
        if total and total[0][4] is not None:
            out.append((_("Promise kept rate"), f"{total[0][4]:.1f}%"))
    blocked = boards["conduct"].numbers.get("blocked_contacts")
    if blocked is not None:
        out.append((_("Contacts blocked by the compliance engine"), _fmt(blocked)))
    complaints = boards["conduct"].table("complaints")
    if complaints is not None:
        total = [r for r in complaints.rows if r[0] is None]
        if total:
            out.append((_("Complaints per 10,000 contacts"), _fmt(total[0][3])))
    return out


def render_pdf(parts: ReportParts, *, progress: Progress | None = None, dpi: int = 150) -> bytes:
    """The report's PDF bytes (raises ``FontNotFound`` without a CJK font)."""
    from fpdf.fonts import FontFace

    from fieldcollect.reports.static_charts import figure_png

    cjk = find_cjk_font()
    with translation.override(parts.lang):
        title = _("Monthly management report")
        period = f"{parts.as_of:%Y-%m} · {_('as of')} {parts.as_of.isoformat()}"
        footer_text = f"fieldcollect · {title} {parts.as_of:%Y-%m}"

        pdf = cjk_document(title=f"{title} {parts.as_of:%Y-%m}",
                           created=datetime(parts.as_of.year, parts.as_of.month, parts.as_of.day),
                           margins=14, page_break_margin=16, font=cjk,
                           footer=lambda page: f"{footer_text} · {page}/{{nb}}")
        pdf.add_page()
        width = pdf.epw
        pdf.set_font("cjk", "", 18)
        pdf.cell(width, 10, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", "", 10)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(width, 6, period, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.ln(3)
        pdf.set_font("cjk", "", 12)
        pdf.cell(width, 8, _("Key figures"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", "", 9)
        if parts.kpis:
            with pdf.table(col_widths=(90, width - 90), first_row_as_headings=False, line_height=5.5,
                           borders_layout="HORIZONTAL_LINES", text_align=("LEFT", "RIGHT")) as table:
                for label, value in parts.kpis:
                    row = table.row()
                    row.cell(label)
                    row.cell(value)
        for key in SECTIONS:
            board = parts.boards[key]
            pdf.add_page()
            pdf.set_font("cjk", "", 14)
            pdf.cell(width, 9, board.title, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("cjk", "", 8.5)
            pdf.set_text_color(90, 90, 90)
            for note in board.notes:
                pdf.multi_cell(width, 4.5, note, new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
            for name, fig in board.figures.items():
                if progress:
                    progress(f"{key}/{name}")
                png = figure_png(fig, font_path=cjk.path, dpi=dpi)
                img_h = width * 3.3 / 7.4
                if pdf.get_y() + img_h > pdf.h - 18:
                    pdf.add_page()
                pdf.image(io.BytesIO(png), w=width, h=img_h)
                pdf.ln(2)
            for dash, tkey, cols, max_rows in PDF_TABLES:
                if dash != key:
                    continue
                table_obj = board.table(tkey)
                if table_obj is not None:
                    _pdf_table(pdf, table_obj, cols, max_rows, FontFace(emphasis=None, fill_color=(230, 236, 245)))
        return bytes(pdf.output())


def _pdf_table(pdf: Any, t: Table, cols: Sequence[str] | None, max_rows: int, head_style: Any) -> None:
    idx = [i for i, (k, _label) in enumerate(t.columns) if cols is None or k in cols]
    if pdf.get_y() > pdf.h - 50:
        pdf.add_page()
    pdf.set_font("cjk", "", 10.5)
    pdf.cell(pdf.epw, 7, t.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", "", 7.5)
    if not t.rows:
        pdf.set_text_color(110, 110, 110)
        pdf.cell(pdf.epw, 5, _("No rows."), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        return
    widths = tuple(2.2 if t.columns[i][0] in WIDE_COLUMNS else 1.0 for i in idx)
    with pdf.table(line_height=4.6, repeat_headings=1, headings_style=head_style, col_widths=widths,
                   text_align="LEFT") as table:
        head = table.row()
        for i in idx:
            head.cell(t.columns[i][1])
        for r in t.rows[:max_rows]:
            row = table.row()
            for i in idx:
                row.cell(_fmt(r[i]))
    if len(t.rows) > max_rows:
        pdf.set_font("cjk", "", 7)
        pdf.cell(pdf.epw, 4.5, _("First %(n)s of %(total)s rows; the export has all.") % {
            "n": max_rows, "total": len(t.rows)}, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def management_report(*, as_of: date, lang: str = "zh-hans", progress: Progress | None = None) -> bytes:
    """Collect and render the monthly management report."""
    return render_pdf(collect(as_of=as_of, lang=lang, progress=progress), progress=progress)
