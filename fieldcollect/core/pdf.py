"""PDF documents with Chinese text, shared by every PDF writer (agreements, settlement statements, the
management report), via fpdf2.

Chinese glyphs need a CJK font. fpdf2 (≥ 2.8) reads TrueType/OpenType collections (``.ttc``) with
``collection_font_number``; we look for, in order:

1. the ``FIELDCOLLECT_CJK_FONT`` environment variable (``/path/font.ttc`` or ``/path/font.ttc#2``);
2. Debian's ``fonts-noto-cjk`` (``NotoSansCJK-Regular.ttc``, the Simplified Chinese "SC" face, found by
   name; ``NotoSansCJK-Bold.ttc`` for headings if asked for);
3. ``fonts-wqy-microhei``, ``fonts-wqy-zenhei``, ``fonts-arphic-uming``.

Only the glyphs used are embedded (subsetting), so a one-page agreement is a few tens of kB. Parsing
a Noto CJK face takes fpdf2/fontTools about 1–2 s (more on a loaded machine), so callers rendering
on a request should do it in a background task.

:func:`cjk_document` starts an A4 document with the font registered under the family :data:`CJK`
(``"B"`` too when the font has a bold face) and an optional centred grey footer. fpdf2 and fontTools
are imported when a document is made, not when this module is imported.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["CJK", "CJKFont", "FontNotFound", "cjk_document", "find_cjk_font"]

CJK = "cjk"
"""Font family name under which :func:`cjk_document` registers the CJK font."""

NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
FALLBACK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
)


class FontNotFound(RuntimeError):
    """No CJK font is installed (install Debian's fonts-noto-cjk or set FIELDCOLLECT_CJK_FONT)."""


@dataclass(frozen=True)
class CJKFont:
    """A font file, the face in a collection, and an optional bold companion."""

    path: Path
    index: int = 0
    bold_path: Path | None = None
    bold_index: int = 0


def _face_index(path: Path, wanted: str) -> int:
    """Index of the face whose family name contains ``wanted`` in a .ttc (0 if not found)."""
    from fontTools.ttLib import TTCollection

    try:
        collection = TTCollection(str(path), lazy=True)
    except Exception:  # not a collection: a single face
        return 0
    for i, face in enumerate(collection.fonts):
        name = face["name"].getDebugName(1) or ""
        if wanted in name and "Mono" not in name:
            return i
    return 0


def _parse_env(value: str) -> CJKFont:
    path_text, _, index_text = value.partition("#")
    path = Path(path_text)
    if not path.is_file():
        raise FontNotFound(f"FIELDCOLLECT_CJK_FONT points to a missing file: {path}")
    return CJKFont(path=path, index=int(index_text) if index_text else 0)


@lru_cache(maxsize=4)
def _find_cjk_font(env_value: str | None, bold: bool) -> CJKFont:
    if env_value:
        return _parse_env(env_value)
    regular = NOTO_DIR / "NotoSansCJK-Regular.ttc"
    if regular.is_file():
        index = _face_index(regular, "CJK SC")
        bold_file = NOTO_DIR / "NotoSansCJK-Bold.ttc"
        if bold and bold_file.is_file():
            return CJKFont(regular, index, bold_file, _face_index(bold_file, "CJK SC"))
        return CJKFont(regular, index)
    for candidate in FALLBACK_FONTS:
        if candidate.is_file():
            return CJKFont(candidate, 0)
    raise FontNotFound(
        "no CJK font found: install Debian's fonts-noto-cjk (or fonts-wqy-microhei), "
        "or set FIELDCOLLECT_CJK_FONT=/path/to/font.ttc#index"
    )


def find_cjk_font(*, bold: bool = False) -> CJKFont:
    """The CJK font to embed (see the module docstring for the search order).

    Parameters
    ----------
    bold
        Also look for a bold face for headings. Each CJK face costs a few seconds to parse and
        subset, so the default is the regular face only (headings are set larger instead).

    Raises
    ------
    FontNotFound
        If none is installed.
    """
    return _find_cjk_font(os.environ.get("FIELDCOLLECT_CJK_FONT") or None, bold)


def cjk_document(
    *,
    title: str,
    created: datetime,
    page_break_margin: float,
    orientation: str = "P",
    font: CJKFont | None = None,
    margins: float | None = None,
    author: str | None = None,
    footer: Callable[[int], str] | None = None,
) -> Any:
    """A new A4 ``fpdf.FPDF`` (millimetres) with the CJK font registered as :data:`CJK`.

    Parameters
    ----------
    title, author
        Document metadata.
    created
        Creation date written in the file (a fixed date keeps the output reproducible).
    page_break_margin
        Bottom margin (mm) that triggers a page break.
    orientation
        ``"P"`` (portrait) or ``"L"`` (landscape).
    font
        CJK font to embed; found with :func:`find_cjk_font` when omitted.
    margins
        Left, top and right margin (mm); fpdf2's default (10 mm) when omitted.
    footer
        Text of the centred grey footer for a page number (may use fpdf2's ``{nb}``, the page count);
        no footer when omitted.

    Raises
    ------
    FontNotFound
        If no CJK font is available.
    """
    from fpdf import FPDF

    cjk = font or find_cjk_font()

    class _Document(FPDF):
        def footer(self) -> None:
            if footer is None:
                return
            self.set_y(-12)
            self.set_font(CJK, "", 7.5)
            self.set_text_color(110, 110, 110)
            self.cell(0, 5, footer(self.page_no()), align="C")
            self.set_text_color(0, 0, 0)

    pdf = _Document(orientation=orientation, unit="mm", format="A4")
    pdf.set_creation_date(created)
    pdf.set_title(title)
    if author is not None:
        pdf.set_author(author)
    if margins is not None:
        pdf.set_margins(margins, margins, margins)
    pdf.set_auto_page_break(auto=True, margin=page_break_margin)
    pdf.add_font(CJK, "", str(cjk.path), collection_font_number=cjk.index)
    if cjk.bold_path is not None:
        pdf.add_font(CJK, "B", str(cjk.bold_path), collection_font_number=cjk.bold_index)
    return pdf
