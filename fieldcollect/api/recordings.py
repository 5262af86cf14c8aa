"""Recordings under ``/recordings``: an agency's dialler uploads call recordings (idempotent by its
own id), the ASR vendor's transcript is imported and scanned, allowed roles play the audio back with
HTTP range requests. Thin: the rules are :mod:`fieldcollect.qa.services`'."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from ninja import Router
from ninja.responses import Status
from ninja.security import SessionAuth

from fieldcollect.api.auth import BearerToken
from fieldcollect.api.instance import api
from fieldcollect.api.schemas import ERRORS, ErrorOut, RecordingOut, TranscriptIn, TranscriptOut
from fieldcollect.core.errors import ApplicationError, NotFoundError
from fieldcollect.core.models import User
from fieldcollect.qa import selectors, services
from fieldcollect.qa.errors import QaErrorCode
from fieldcollect.qa.models import Recording, Transcript
from fieldcollect.visits.evidence import body_too_large

router = Router(tags=["recordings"], auth=[BearerToken(), SessionAuth()])
UPLOAD_ERRORS = {**ERRORS, 413: ErrorOut, 415: ErrorOut}


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _out(rec: Recording, created: bool = False) -> dict[str, Any]:
    return {"id": rec.pk, "case_id": rec.case_id, "agency_id": rec.agency_id, "collector_id": rec.collector_id,
            "source": rec.source, "channel": rec.channel, "dialler_id": rec.dialler_id, "started_at": rec.started_at,
            "ended_at": rec.ended_at, "pack": rec.pack, "size": rec.size, "content_type": rec.content_type,
            "created": created, "purged": rec.purged_at is not None}  # fmt: skip


@router.post(
    "",
    response={200: RecordingOut, 201: RecordingOut, **UPLOAD_ERRORS},
    summary="Upload a call recording (dialler)",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "audio/mpeg": {"schema": {"type": "string", "format": "binary"}}}}},
)  # fmt: skip
def recording_upload(
    request: HttpRequest,
    dialler_id: str,
    case_id: int,
    started_at: datetime,
    ended_at: datetime,
    collector_id: int | None = None,
    number: str = "",
    pack: str = "CN",
) -> Status[dict[str, Any]]:
    """The audio is the raw request body (MP3, M4A, WAV, AMR, Ogg, ...: the kind is read from the
    bytes), the call's facts are query parameters: the dialler's own ``dialler_id``, the ``case_id``,
    the ``number`` dialled, ``started_at``/``ended_at`` (ISO 8601) and the ``collector_id``. It is
    sealed (AES-GCM with the key ring) as it arrives. The same ``dialler_id`` again: 200 with the
    stored recording (``created`` false), the body is not read. Only an agency's user uploads, for a
    case placed with the agency."""
    too_large = body_too_large(request.META.get("CONTENT_LENGTH"))
    if too_large is not None:
        raise too_large
    rec, created = services.recording_upload(
        acting_user=_user(request), case_id=case_id, collector_id=collector_id, started_at=started_at,
        ended_at=ended_at, dialler_id=dialler_id, stream=request,  # type: ignore[arg-type]  # the body, read as it arrives phone=number, pack=pack,
    )  # fmt: skip
    return Status(201 if created else 200, _out(rec, created))


@router.get(
    "/{recording_id}",
    response={200: RecordingOut, **ERRORS},
    summary="A recording's facts",
)
def recording_detail(request: HttpRequest, recording_id: int) -> dict[str, Any]:
    return _out(selectors.recording_for(_user(request), recording_id))


@router.get(
    "/{recording_id}/audio",
    response={416: ErrorOut, 410: ErrorOut, **ERRORS},
    summary="Play a recording back (HTTP range requests)",
    openapi_extra={
        "parameters": [{"name": "Range", "in": "header", "required": False,
                        "schema": {"type": "string", "example": "bytes=0-65535"}}],
        "responses": {"200": {"description": "The whole recording", "content": {"application/octet-stream": {
                          "schema": {"type": "string", "format": "binary"}}}},
                      "206": {"description": "The requested byte range", "content": {"application/octet-stream": {
                          "schema": {"type": "string", "format": "binary"}}}}},
    },
)  # fmt: skip
def recording_audio(request: HttpRequest, recording_id: int) -> HttpResponseBase:
    """Bank compliance (QA) and an agency's QA lead (its own agency's recordings) only; anyone else
    gets 404. Each playback is audited with the range served."""
    user = _user(request)
    rec = Recording.objects.filter(pk=recording_id).first()
    if rec is None:
        raise NotFoundError(_("Recording not found."), code=QaErrorCode.RECORDING_NOT_FOUND)
    try:
        play = services.recording_play(
            recording=rec, acting_user=user, range_header=request.headers.get("Range")
        )
    except ApplicationError as exc:
        if exc.status_code == 416:
            resp = api.create_response(request, {"error": exc.as_dict()}, status=416)
            resp["Content-Range"] = f"bytes */{rec.size}"
            return resp
        raise
    stream = StreamingHttpResponse(
        play.chunks, status=206 if play.partial else 200, content_type=play.content_type
    )
    stream["Content-Length"] = str(play.end - play.start + 1 if play.total else 0)
    stream["Accept-Ranges"] = "bytes"
    if play.partial:
        stream["Content-Range"] = f"bytes {play.start}-{play.end}/{play.total}"
    stream["Cache-Control"] = "private, no-store"
    stream["X-Content-Type-Options"] = "nosniff"
    return stream


@router.post(
    "/{recording_id}/transcript",
    response={200: TranscriptOut, **ERRORS},
    summary="Import the ASR vendor's transcript and scan it",
)
def transcript_import(request: HttpRequest, recording_id: int, body: TranscriptIn) -> dict[str, Any]:
    """Segments ``{speaker: collector|customer|third_party, start_s, end_s, text}``; the conduct
    detector of the recording's pack runs at once and its findings come back. Importing again
    replaces the transcript."""
    user = _user(request)
    rec = selectors.recording_for(user, recording_id)
    payload = {"language": body.language, "segments": [s.dict() for s in body.segments]}
    tr = services.transcript_import(recording=rec, acting_user=user, payload=payload, engine=body.engine)
    return _transcript_out(tr)


def _transcript_out(tr: Transcript) -> dict[str, Any]:
    return {"recording_id": tr.recording_id, "language": tr.language, "engine": tr.engine, "pack": tr.scanned_pack,
            "segments": len(json.loads(tr.segments)),
            "findings": [{"category": f.category, "rule_id": f.rule_id, "severity": f.severity,
                          "segment_index": f.segment_index, "start_s": f.start_s, "evidence": f.evidence}
                         for f in tr.findings.all()]}  # fmt: skip
