"""The collector app's endpoints under ``/field`` (the phone app and agencies' own field apps): today's
stops with their visit permits, the sync of actions queued on the phone, evidence uploaded in chunks
that resume, the repayment QR code. Thin: the rules are the visits services'.

Auth: the bearer token, or the Django session cookie with the ``X-CSRFToken`` header (the phone app,
served from the same origin). Only a field collector (a user linked to a collector) uses these.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router
from ninja.security import SessionAuth
from pydantic import BaseModel, ValidationError

from fieldcollect.api.auth import BearerToken
from fieldcollect.api.instance import api
from fieldcollect.api.schemas import (
    ERRORS,
    ErrorOut,
    FieldCheckinPayload,
    FieldPromisePayload,
    FieldReportPayload,
    FieldSyncIn,
    FieldSyncOut,
    FieldTodayOut,
    FieldUploadIn,
    FieldUploadOut,
)
from fieldcollect.core.errors import ApplicationError, NotFoundError
from fieldcollect.core.models import User
from fieldcollect.core.qr import qr_svg
from fieldcollect.visits import selectors
from fieldcollect.visits.errors import VisitErrorCode as E
from fieldcollect.visits.models import FieldUpload
from fieldcollect.visits.services import field as field_services
from fieldcollect.visits.services import uploads as upload_services
from fieldcollect.visits.services.common import collector_of

router = Router(tags=["field"], auth=[BearerToken(), SessionAuth()])

_PAYLOADS: dict[str, tuple[type[BaseModel], type[Any]]] = {
    "checkin": (FieldCheckinPayload, field_services.CheckinAction),
    "report": (FieldReportPayload, field_services.ReportAction),
    "promise": (FieldPromisePayload, field_services.PromiseAction),
}


# an upload may also be too large (413) or not the kind it said (415)
UPLOAD_ERRORS = {**ERRORS, 413: ErrorOut, 415: ErrorOut}


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


@router.get("/today", response={200: FieldTodayOut, **ERRORS}, summary="Today's stops (collector app)")
def today(request: HttpRequest) -> dict[str, Any]:
    """The stops of the collector's own cases on the team's current day plan, each with its signed
    visit permit, the customer as masking allows (a read in clear is audited), the repayment link and
    links that open Amap, Baidu Maps or Apple Maps. ``wipe_after``: the phone deletes the day's data
    then (and at logout)."""
    user = _user(request)
    return selectors.field_today(user=user, collector=collector_of(user))


def _action(raw: Any) -> field_services.SyncAction:
    schema, action = _PAYLOADS[raw.kind]
    try:
        payload = action(**schema.model_validate(raw.payload).model_dump())
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        where = ".".join(str(p) for p in errors[0]["loc"]) if errors else "payload"
        reason = errors[0]["msg"] if errors else ""
        invalid = ApplicationError(_("The %(kind)s is not valid: %(field)s: %(reason)s") % {
            "kind": raw.kind, "field": where or "payload", "reason": reason}, code=E.FIELD_INVALID_ACTION,
            extra={"errors": [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")} for e in errors]})
        return field_services.SyncAction(client_id=raw.client_id, kind=raw.kind, case_id=raw.case_id, at=raw.at,
                                         payload=None, invalid=invalid)
    return field_services.SyncAction(client_id=raw.client_id, kind=raw.kind, case_id=raw.case_id, at=raw.at,
                                     payload=payload)


@router.post("/sync", response={200: FieldSyncOut, **ERRORS}, summary="Sync the actions queued on the phone")
def sync(request: HttpRequest, body: FieldSyncIn) -> dict[str, Any]:
    """Apply the phone's queued check-ins, visit reports and promises in order. Each is applied once
    per collector by its ``client_id`` (sent again: ``duplicate`` with the same id); a refused action
    (``refused`` with its code: a case recalled meanwhile, a compliance block, outside the permit...)
    does not stop the others. A visit made under a permit before a debtor flag was raised is recorded
    as such (shown in the daily compliance report)."""
    user = _user(request)
    results = field_services.field_sync(acting_user=user, actions=[_action(a) for a in body.actions])
    return {"results": [{"client_id": r.client_id, "status": r.status, "code": r.code, "message": r.message,
                         "id": r.id, "extra": r.extra} for r in results]}


def _upload_out(upload: FieldUpload) -> dict[str, Any]:
    return {"upload_id": upload.pk, "received": upload.received, "complete": upload.evidence_id is not None,
            "evidence_id": upload.evidence_id}


@router.post("/uploads", response={200: FieldUploadOut, **UPLOAD_ERRORS}, summary="Start (or resume) an evidence upload")
def upload_open(request: HttpRequest, body: FieldUploadIn) -> dict[str, Any]:
    """Start the upload of a photo or an audio recording of a visit report synced before (else 409
    ``report_not_synced``: try again later). The same ``client_id`` again gives the same upload
    with the bytes ``received`` so far: go on from there."""
    upload = upload_services.upload_open(acting_user=_user(request), client_id=body.client_id,
                                        report_client_id=body.report_client_id, kind=body.kind,
                                        content_type=body.content_type, size=body.size, sha256=body.sha256)
    return _upload_out(upload)


@router.put("/uploads/{upload_id}", response={200: FieldUploadOut, **UPLOAD_ERRORS}, summary="Send a chunk of an upload",
            openapi_extra={
                "parameters": [{"name": "Content-Range", "in": "header", "required": True,
                                "schema": {"type": "string", "example": "bytes 0-1048575/5242880"}}],
                "requestBody": {"required": True, "content": {"application/octet-stream": {
                    "schema": {"type": "string", "format": "binary"}}}}})
def upload_chunk(request: HttpRequest, upload_id: int) -> HttpResponse | dict[str, Any]:
    """The raw bytes of ``START``–``END`` (inclusive) of the file, with ``Content-Range: bytes
    START-END/SIZE`` (at most 1 MiB a chunk). A chunk not starting at ``received`` is 409 with
    ``received`` in the body (top level and ``error.extra``); a body shorter than its range is
    refused and nothing of it kept. The last chunk completes the file: its size and SHA-256 are
    checked (a mismatch: 422, start again from 0), it is sealed, stored as the report's evidence
    (``evidence_id``) and an audio file makes the report's recording a fact."""
    try:
        upload = upload_services.upload_chunk(acting_user=_user(request), upload_id=upload_id,
                                             content_range=request.headers.get("Content-Range", ""),
                                             data=request.body)
    except ApplicationError as exc:
        if "received" not in exc.extra:
            raise
        return api.create_response(request, {"error": exc.as_dict(), "received": exc.extra["received"]},
                                   status=exc.status_code)
    return _upload_out(upload)


@router.get("/cases/{case_id}/repay.svg", response={**ERRORS}, summary="The repayment QR code of a case",
            openapi_extra={"responses": {"200": {"description": "The QR code of the case's repayment link (SVG)",
                                                 "content": {"image/svg+xml": {"schema": {"type": "string"}}}}}})
def repay_qr(request: HttpRequest, case_id: int) -> HttpResponse:
    """The bank's official repayment link of the case as a QR code the customer scans (no cash); the
    phone caches it for the day. 404 ``field.no_repay_url`` when no link is configured."""
    user = _user(request)
    collector = collector_of(user)
    case = field_services.field_case(user=user, collector=collector, case_id=case_id)
    url = field_services.repay_url(case)
    if not url:
        raise NotFoundError(_("No repayment link is configured."), code=E.FIELD_NO_REPAY_URL)
    resp = HttpResponse(qr_svg(url), content_type="image/svg+xml")
    resp["Cache-Control"] = "private, max-age=86400"
    return resp

