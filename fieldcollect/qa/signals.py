"""A visit's audio (or video) evidence, recorded by the collector app, becomes a Recording for
quality inspection as soon as it is stored (same sealed file, no copy)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from fieldcollect.qa.services import recording_from_visit_evidence
from fieldcollect.visits.models import Evidence


def evidence_saved(sender: type[Evidence], instance: Evidence, created: bool, **kwargs: Any) -> None:
    if not created or kwargs.get("raw") or instance.kind not in ("audio", "video"):
        return
    transaction.on_commit(lambda: recording_from_visit_evidence(evidence=instance))
