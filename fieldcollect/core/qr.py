"""A QR code of a link as SVG (segno), one place for the field app's repayment code and the payment links."""

from __future__ import annotations

import io

import segno


def qr_svg(url: str) -> bytes:
    """The QR code of ``url`` (error correction M) as a standalone SVG."""
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=6, border=2, xmldecl=False, svgns=True, nl=False)
    return buf.getvalue()
