"""Conduct detection on call and visit transcripts (issue 21, item 3): a pure library.

Rules are data: a pack (``packs/cn.toml``, ``packs/us.toml``) lists rules with an id, a category, a
severity, an explanation in both languages, a speaker constraint, a negation mode and, for the
``missing_*`` rules, a position constraint (the collector's first N turns). The phrases live in
per-language lexicons (``lexicons/zh.toml``, ``lexicons/en.toml``), named groups of regular
expressions that the packs refer to by name. See :mod:`fieldcollect.analytics.conduct.detector`.
"""

from fieldcollect.analytics.conduct.detector import (
    CATEGORIES,
    Detector,
    Finding,
    PackError,
    Segment,
    Transcript,
    TranscriptError,
    load_detector,
    parse_transcript,
)

__all__ = [
    "CATEGORIES",
    "Detector",
    "Finding",
    "PackError",
    "Segment",
    "Transcript",
    "TranscriptError",
    "load_detector",
    "parse_transcript",
]
