"""Evidence from the collector app uploaded in chunks that resume (``/api/v1/field/uploads``): each
chunk is sealed at rest as it arrives (:mod:`fieldcollect.privacy.filecrypt`); the last one completes
the file, checked (size, SHA-256, kind from the content) and stored as the visit report's evidence by
:func:`~fieldcollect.visits.services.reports.evidence_add_staged`, like an upload from the page."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Collector
from fieldcollect.audit.services import audit_log
from fieldcollect.core.errors import ApplicationError, ConflictError, NotFoundError
from fieldcollect.core.models import User
from fieldcollect.privacy import filecrypt
from fieldcollect.privacy.fields import current_keyring
from fieldcollect.visits.errors import VisitErrorCode as E
from fieldcollect.visits.evidence import EvidenceIntake, evidence_root, max_evidence_bytes
from fieldcollect.visits.models import FieldAction, FieldUpload, VisitReport
from fieldcollect.visits.services.common import collector_of
from fieldcollect.visits.services.field import field_case, report_try_close, synced_action
from fieldcollect.visits.services.reports import evidence_add_staged, evidence_check_can_add

__all__ = ["upload_chunk", "upload_open"]


_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RANGE = re.compile(r"^bytes (\d{1,15})-(\d{1,15})/(\d{1,15})$")


def _chunk_dir(upload: FieldUpload) -> Path:
    return evidence_root() / "uploads" / str(upload.pk)


def _report_of(collector: Collector, report_client_id: str) -> VisitReport:
    done = synced_action(collector, report_client_id, FieldAction.Kind.REPORT)
    if done is None:
        raise ConflictError(_("The visit report of this file has not been synced yet: try again later."),
                            code=E.FIELD_REPORT_NOT_SYNCED, extra={"report_client_id": report_client_id})
    return VisitReport.objects.select_related("case__loan").get(pk=int(done.object_id or 0))


def upload_open(*, acting_user: User, client_id: str, report_client_id: str, kind: str, content_type: str,
                size: int, sha256: str) -> FieldUpload:
    """Start an upload, or find the one the phone started with the same ``client_id`` (to resume it
    from its ``received``)."""
    collector = collector_of(acting_user)
    existing = FieldUpload.objects.filter(collector=collector, client_id=client_id).first()
    if existing is not None:
        return existing
    if kind not in FieldUpload.Kind.values:
        raise ApplicationError(_("An upload is a photo or an audio recording."), code=E.UPLOAD_KIND,
                               extra={"field": "kind", "allowed": list(FieldUpload.Kind.values)})
    if size <= 0 or size > max_evidence_bytes():
        raise ApplicationError(_("The file size is not allowed (at most %(mb)d MB).") % {
            "mb": max_evidence_bytes() // 1024**2}, code=E.UPLOAD_SIZE, extra={"field": "size"})
    sha = sha256.lower()
    if not _SHA256.match(sha):
        raise ApplicationError(_("The SHA-256 must be 64 hexadecimal digits."), code=E.UPLOAD_SHA256,
                               extra={"field": "sha256"})
    report = _report_of(collector, report_client_id)
    field_case(user=acting_user, collector=collector, case_id=report.case_id)
    evidence_check_can_add(report=report, acting_user=acting_user)
    with transaction.atomic():
        upload = FieldUpload.objects.create(collector=collector, client_id=client_id,
                                            report_client_id=report_client_id, kind=kind,
                                            content_type=content_type[:100], size=size, sha256=sha)
        audit_log(actor=acting_user, action="field.upload_open", object_type="visit_report", object_id=report.pk,
                  new={"upload": upload.pk, "kind": kind, "size": size, "sha256": sha})
    return upload


def _seal_chunk(upload: FieldUpload, start: int, data: bytes) -> None:
    folder = _chunk_dir(upload)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{start:015d}"
    tmp = folder / f".{start:015d}.part"
    with tmp.open("wb") as fh:
        sealer = filecrypt.Sealer(fh, ring=current_keyring())
        sealer.write(data)
        sealer.finish(name=f"upload:{upload.pk}:{start}".encode())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


def _assemble(upload: FieldUpload) -> Any:
    """The chunks, decrypted in order, fed to an :class:`EvidenceIntake` (which seals the whole)."""
    intake = EvidenceIntake()
    digest = hashlib.sha256()
    try:
        for path in sorted(p for p in _chunk_dir(upload).iterdir() if not p.name.startswith(".")):
            with path.open("rb") as fh:
                for plain in filecrypt.open_sealed(fh, ring=current_keyring(),
                                                   name=f"upload:{upload.pk}:{int(path.name)}".encode()):
                    digest.update(plain)
                    intake.feed(plain)
    except BaseException:
        intake.abort()
        raise
    if digest.hexdigest() != upload.sha256 or intake.size != upload.size:
        intake.abort()
        return None
    return intake.finish()


def _reset(upload: FieldUpload) -> None:
    shutil.rmtree(_chunk_dir(upload), ignore_errors=True)
    FieldUpload.objects.filter(pk=upload.pk).update(received=0)
    upload.received = 0


def upload_chunk(*, acting_user: User, upload_id: int, content_range: str, data: bytes) -> FieldUpload:
    """Add the chunk ``data`` at ``content_range`` (``bytes START-END/SIZE``) to an upload. A chunk that
    does not start at ``received`` is 409 (``extra.received`` says where to go on); a short body is
    refused and nothing of it kept. The last chunk completes the file: size and SHA-256 checked,
    sealed and stored as the report's evidence (a recording makes the report's ``recording`` true)."""
    collector = collector_of(acting_user)
    with transaction.atomic():
        upload = FieldUpload.objects.select_for_update().filter(pk=upload_id, collector=collector).first()
        if upload is None:
            raise NotFoundError(_("Upload not found."), code=E.UPLOAD_NOT_FOUND, extra={"upload_id": upload_id})
        if upload.evidence_id is not None:
            raise ConflictError(_("The upload is complete."), code=E.UPLOAD_COMPLETE,
                                extra={"received": upload.received, "evidence_id": upload.evidence_id})
        m = _RANGE.match((content_range or "").strip())
        if m is None:
            raise ApplicationError(_("Send the header Content-Range: bytes START-END/SIZE."), code=E.UPLOAD_RANGE,
                                   extra={"field": "Content-Range", "received": upload.received})
        start, end, total = (int(g) for g in m.groups())
        if total != upload.size or end < start or end >= total:
            raise ApplicationError(_("The range does not fit the file (%(size)d bytes).") % {"size": upload.size},
                                   code=E.UPLOAD_RANGE, extra={"field": "Content-Range", "received": upload.received})
        if start != upload.received:
            raise ConflictError(_("The chunk must start at byte %(n)d.") % {"n": upload.received},
                                code=E.UPLOAD_OFFSET, extra={"received": upload.received})
        if len(data) != end - start + 1:
            raise ApplicationError(_("The chunk is %(got)d bytes, the range says %(want)d: send it again.") % {
                "got": len(data), "want": end - start + 1}, code=E.UPLOAD_MISMATCH, extra={"received": upload.received})
        report = _report_of(collector, upload.report_client_id)
        field_case(user=acting_user, collector=collector, case_id=report.case_id)
        evidence_check_can_add(report=report, acting_user=acting_user)
        _seal_chunk(upload, start, data)
        upload.received = end + 1
        upload.save(update_fields=["received", "updated_at"])
        if upload.received < upload.size:
            return upload
        staged = _assemble(upload)
        if staged is None:
            _reset(upload)
            bad = True
        else:
            bad = False
    if bad:
        raise ApplicationError(_("The file does not match its SHA-256 or size: upload it again from the start."),
                               code=E.UPLOAD_SHA256, status_code=422, extra={"received": 0})
    if upload.kind == FieldUpload.Kind.AUDIO and staged.kind == "video" and staged.mime == "video/webm":
        staged = dataclasses.replace(staged, kind="audio", mime="audio/webm")  # MediaRecorder's audio-only WebM
    if staged.kind != upload.kind:
        staged.discard()
        _reset(upload)
        raise ApplicationError(_("The file is not a %(kind)s.") % {"kind": upload.kind}, code=E.UPLOAD_KIND,
                               status_code=415, extra={"received": 0})
    evidence = evidence_add_staged(report=report, acting_user=acting_user, staged=staged,
                                   name=f"{upload.kind}-{upload.client_id}"[:200])
    FieldUpload.objects.filter(pk=upload.pk).update(evidence=evidence)
    upload.evidence = evidence
    shutil.rmtree(_chunk_dir(upload), ignore_errors=True)
    with contextlib.suppress(ApplicationError):  # the report stays open: the collector closes it on its page
        report_try_close(report=report, acting_user=acting_user)
    return upload
