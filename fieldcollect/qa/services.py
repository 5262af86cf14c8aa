"""Writes of quality inspection: store a recording (sealed, idempotent by the dialler's id), make one
of a visit's audio evidence, play it back (access checked, audited), import a transcript and scan it,
and purge what retention allows.

Retention is per rule pack, in days after the recording ended: ``FIELDCOLLECT_QA_RETENTION_DAYS``
(a dict, pack -> days) over :data:`DEFAULT_RETENTION_DAYS` (CN 730 days: two years, the bank's
outsourcing contracts' usual floor for collection recordings; US 1,095 days: Regulation F, 12 CFR
1006.100, keeps records three years). A recording is held past retention while it carries a
``legal_hold`` or while a complaint about its case is open.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Collector
from fieldcollect.analytics.conduct import PackError, TranscriptError, load_detector, parse_transcript
from fieldcollect.audit.services import audit_log
from fieldcollect.cases.access import access_case_by_id
from fieldcollect.complaints.models import OPEN_STATUSES, Complaint
from fieldcollect.core.errors import ApplicationError, NotFoundError, PermissionDeniedError
from fieldcollect.core.models import Role, User
from fieldcollect.privacy import filecrypt
from fieldcollect.privacy.fields import current_keyring
from fieldcollect.qa.errors import QaErrorCode
from fieldcollect.qa.models import AutoFinding, PurgeRecord, QaLead, Recording, Transcript
from fieldcollect.visits.evidence import EvidenceIntake, StagedEvidence, evidence_path
from fieldcollect.visits.models import Evidence

DEFAULT_RETENTION_DAYS: dict[str, int] = {"CN": 730, "US": 1095}
PACKS = ("CN", "US")
AUDIO_KINDS = frozenset({"audio", "video"})


def retention_days(pack: str) -> int:
    configured = getattr(settings, "FIELDCOLLECT_QA_RETENTION_DAYS", {}) or {}
    return int(configured.get(pack, DEFAULT_RETENTION_DAYS.get(pack, max(DEFAULT_RETENTION_DAYS.values()))))


def _error(message: str, code: str, status: int = 422, **extra: Any) -> ApplicationError:
    return ApplicationError(message, code=code, status_code=status, extra=extra or None)


# ---------------------------------------------------------------- storing


def store_staged(staged: StagedEvidence) -> None:
    """Move a sealed upload to its place in the evidence store (by content hash)."""
    target = evidence_path(staged.sha256)
    if target.exists():
        staged.discard()  # the same content is stored already (sealed under its hash)
    else:
        os.replace(staged.tmp_path, target)


def recording_upload(
    *,
    acting_user: User,
    case_id: int,
    collector_id: int | None,
    started_at: datetime,
    ended_at: datetime,
    dialler_id: str,
    stream: IO[bytes],
    phone: str = "",
    pack: str = "CN",
) -> tuple[Recording, bool]:
    """A dialler's call recording for a case of the uploader's agency: ``(recording, created)``. The
    same ``dialler_id`` again returns the stored recording (``created`` false) without reading the body."""
    agency_id = acting_user.agency_id
    if not acting_user.is_agency_user or agency_id is None:
        raise PermissionDeniedError(_("Only an agency's dialler uploads recordings."), code=QaErrorCode.NOT_AGENCY)
    dialler_id = dialler_id.strip()
    if not dialler_id or len(dialler_id) > 100:
        raise _error(
            _("dialler_id is required (at most 100 characters)."), "qa.dialler_id", field="dialler_id"
        )
    if pack not in PACKS:
        raise _error(_("Unknown rule pack."), "qa.pack", field="pack")
    if ended_at < started_at:
        raise _error(_("The recording ends before it starts."), "qa.times", field="ended_at")
    existing = Recording.objects.filter(agency_id=agency_id, dialler_id=dialler_id).first()
    if existing is not None:
        return existing, False
    case = access_case_by_id(case_id, acting_user, related=())
    collector = None
    if collector_id is not None:
        collector = Collector.objects.filter(pk=collector_id, agency_id=agency_id).first()
        if collector is None:
            raise NotFoundError(
                _("Collector not found."), code=QaErrorCode.COLLECTOR_NOT_FOUND, extra={"collector_id": collector_id}
            )
    staged = EvidenceIntake().read_from(stream)
    if staged.kind not in AUDIO_KINDS:
        staged.discard()
        raise _error(_("A recording must be an audio or video file."), "qa.not_audio", field="file")
    store_staged(staged)
    try:
        with transaction.atomic():
            rec = Recording.objects.create(
                agency_id=agency_id, case=case, collector=collector, source=Recording.Source.DIALLER,
                channel=Recording.Channel.CALL, dialler_id=dialler_id, phone=phone[:32], started_at=started_at,
                ended_at=ended_at, pack=pack, sha256=staged.sha256, size=staged.size, content_type=staged.mime,
                created_by=acting_user,
            )  # fmt: skip
            audit_log(actor=acting_user, action="qa.recording.upload", object_type="qa.recording", object_id=rec.pk,
                      new={"case": case.pk, "dialler_id": dialler_id, "sha256": staged.sha256, "size": staged.size})  # fmt: skip
    except IntegrityError:  # a concurrent upload of the same dialler id won
        return Recording.objects.get(agency_id=agency_id, dialler_id=dialler_id), False
    return rec, True


def recording_from_visit_evidence(*, evidence: Evidence, pack: str = "CN") -> Recording | None:
    """The Recording row of a visit report's audio (or video) evidence; ``None`` for a photo. Idempotent."""
    if evidence.kind not in AUDIO_KINDS:
        return None
    existing = Recording.objects.filter(evidence=evidence).first()
    if existing is not None:
        return existing
    report = evidence.report
    started = min(report.created_at, evidence.uploaded_at)
    ended = max(report.closed_at or evidence.uploaded_at, started)
    with transaction.atomic():
        rec = Recording.objects.create(
            agency_id=report.collector.agency_id, case_id=report.case_id, collector_id=report.collector_id,
            source=Recording.Source.VISIT, channel=Recording.Channel.VISIT, started_at=started, ended_at=ended,
            pack=pack, evidence=evidence, sha256=evidence.sha256, size=evidence.size,
            content_type=evidence.content_type or "application/octet-stream",
        )  # fmt: skip
        audit_log(actor=None, action="qa.recording.from_visit", object_type="qa.recording", object_id=rec.pk,
                  new={"evidence": evidence.pk, "report": report.pk})  # fmt: skip
    return rec


# ---------------------------------------------------------------- playback


def may_play(user: User, recording: Recording) -> bool:
    """Bank compliance (QA) plays every recording; an agency's QA lead its own agency's; nobody else."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.role == Role.COMPLIANCE_OFFICER:
        return True
    if user.role == Role.AGENCY_MANAGER and user.agency_id == recording.agency_id:
        return QaLead.objects.filter(user=user, agency_id=recording.agency_id).exists()
    return False


@dataclass(frozen=True)
class Playback:
    chunks: Iterator[bytes]
    start: int
    end: int  # inclusive
    total: int
    partial: bool
    content_type: str


def parse_range(header: str | None, total: int) -> tuple[int, int] | None:
    """``(start, end)`` of a single ``bytes=`` range (RFC 9110), ``None`` for no header; an
    unsatisfiable or malformed range raises ApplicationError 416."""
    if not header:
        return None
    unit, _sep, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        raise _error(_("Only one byte range is served."), "qa.range", 416, total=total)
    first, dash, last = spec.strip().partition("-")
    try:
        if not dash:
            raise ValueError
        if first == "":
            n = int(last)
            if n <= 0:
                raise ValueError
            start, end = max(0, total - n), total - 1
        else:
            start = int(first)
            end = int(last) if last else total - 1
    except ValueError as exc:
        raise _error(_("Malformed Range header."), "qa.range", 416, total=total) from exc
    end = min(end, total - 1)
    if start < 0 or start > end or start >= total:
        raise _error(_("The range is outside the recording."), "qa.range", 416, total=total)
    return start, end


def recording_play(*, recording: Recording, acting_user: User, range_header: str | None = None) -> Playback:
    """The recording's audio for an allowed user (others: 404, as if it did not exist), decrypted as
    sent, the requested byte range only; every playback is audited (with its range)."""
    if not may_play(acting_user, recording):
        raise NotFoundError(
            _("Recording not found."), code=QaErrorCode.RECORDING_NOT_FOUND, extra={"recording_id": recording.pk}
        )
    if recording.purged_at is not None:
        raise _error(_("The recording was purged under the retention rule."), "qa.purged", 410)
    path = evidence_path(recording.sha256)
    if not path.is_file():
        raise _error(_("The recording's file is missing."), "qa.file_missing", 409)
    total = recording.size
    wanted = parse_range(range_header, total) if total else None
    start, end = wanted if wanted else (0, total - 1)
    audit_log(actor=acting_user, action="qa.recording.play", object_type="qa.recording", object_id=recording.pk,
              new={"range": [start, end], "partial": wanted is not None})  # fmt: skip
    name = recording.sha256.encode()

    def chunks() -> Iterator[bytes]:
        if total == 0:
            return
        with path.open("rb") as fh:
            try:
                yield from filecrypt.open_sealed_range(
                    fh, ring=current_keyring(), start=start, end=end, name=name
                )
            except filecrypt.FileCryptError as exc:
                raise _error(
                    _("The recording's file is damaged or has been altered."), "qa.damaged", 409
                ) from exc

    return Playback(chunks(), start, end, total, wanted is not None, recording.content_type)


# ---------------------------------------------------------------- transcripts and findings


class TranscriptEngine:
    """A local speech-recognition engine (optional): turns a recording's audio into vendor-style
    segments. Nothing downloads a model at run time: an engine is configured with a model already on
    disk, or not at all (``FIELDCOLLECT_QA_ASR_ENGINE`` unset: transcripts come from the vendor's import)."""

    name = "none"

    def transcribe(self, chunks: Iterator[bytes], *, language: str) -> list[dict[str, Any]]:
        raise NotImplementedError


def transcript_import(
    *, recording: Recording, acting_user: User | None, payload: Any, engine: str = "vendor"
) -> Transcript:
    """Store a transcript in the ASR vendor's format (``{"language", "segments": [{speaker, start_s,
    end_s, text}]}``), run the conduct detector of the recording's pack, store its findings.
    Importing again replaces the transcript and its findings."""
    if not isinstance(payload, dict):
        raise _error(_("The transcript must be a JSON object."), "qa.transcript", field=None)
    try:
        parsed = parse_transcript(
            {"transcript_id": str(recording.pk), "channel": recording.channel, **payload}
        )
    except TranscriptError as exc:
        raise _error(
            _("Invalid transcript: %(reason)s") % {"reason": str(exc)}, "qa.transcript", field=exc.field
        ) from exc
    try:
        detector = load_detector(recording.pack)
    except PackError as exc:  # a broken pack file is an operator's error, named
        raise _error(str(exc), "qa.pack", 500) from exc
    findings = detector.scan(parsed)
    segments = [
        {"speaker": s.speaker, "start_s": s.start_s, "end_s": s.end_s, "text": s.text}
        for s in parsed.segments
    ]
    with transaction.atomic():
        Transcript.objects.filter(recording=recording).delete()
        tr = Transcript.objects.create(recording=recording, language=parsed.language, engine=f"{engine}"[:64],
                                       segments=json.dumps(segments, ensure_ascii=False),
                                       scanned_pack=f"{detector.pack_id} {detector.version}")  # fmt: skip
        AutoFinding.objects.bulk_create(
            AutoFinding(transcript=tr, category=f.category, rule_id=f.rule_id, severity=f.severity,
                        segment_index=f.segment_index,
                        start_s=parsed.segments[f.segment_index].start_s if f.segment_index is not None else None,
                        evidence=f.evidence)
            for f in findings
        )  # fmt: skip
        audit_log(actor=acting_user, action="qa.transcript.import", object_type="qa.recording", object_id=recording.pk,
                  new={"segments": len(segments), "findings": len(findings), "pack": tr.scanned_pack})  # fmt: skip
    return tr


# ---------------------------------------------------------------- retention


def held(recording: Recording) -> bool:
    """A legal hold: set by hand (a legal matter) or a complaint about the case still open."""
    if recording.legal_hold:
        return True
    return Complaint.objects.filter(case_id=recording.case_id, status__in=OPEN_STATUSES).exists()


def recording_set_legal_hold(
    *, recording: Recording, acting_user: User, hold: bool, reason: str
) -> Recording:
    if not (acting_user.is_superuser or acting_user.role == Role.COMPLIANCE_OFFICER):
        raise PermissionDeniedError(_("Only bank compliance sets a legal hold."), code=QaErrorCode.HOLD_FORBIDDEN)
    with transaction.atomic():
        old = recording.legal_hold
        recording.legal_hold = hold
        recording.save(update_fields=["legal_hold"])
        audit_log(actor=acting_user, action="qa.recording.legal_hold", object_type="qa.recording",
                  object_id=recording.pk, old={"legal_hold": old}, new={"legal_hold": hold, "reason": reason[:200]})  # fmt: skip
    return recording


def _unlinker(sha256: str) -> Callable[[], None]:
    def unlink() -> None:
        evidence_path(sha256).unlink(missing_ok=True)

    return unlink


def purge_expired(*, now: datetime | None = None, dry_run: bool = False) -> list[PurgeRecord]:
    """Delete the audio of recordings past their pack's retention and not held; record each purge.
    The sealed file is deleted only when no other recording or visit evidence still uses it."""
    now = now or timezone.now()
    done: list[PurgeRecord] = []
    for pack in sorted(set(Recording.objects.filter(purged_at__isnull=True).values_list("pack", flat=True))):
        days = retention_days(pack)
        cutoff = now - timedelta(days=days)
        due = Recording.objects.filter(
            purged_at__isnull=True, pack=pack, ended_at__lt=cutoff, legal_hold=False
        )
        due = due.exclude(case__complaints__status__in=OPEN_STATUSES).order_by("id")
        for rec in due:
            if dry_run:
                done.append(PurgeRecord(run_at=now, recording=rec, case_id_snapshot=rec.case_id, sha256=rec.sha256,
                                        size=rec.size, file_deleted=False, retention_days=days))  # fmt: skip
                continue
            with transaction.atomic():
                locked = Recording.objects.select_for_update().get(pk=rec.pk)
                if locked.purged_at is not None or held(locked):
                    continue
                others = (Recording.objects.filter(sha256=locked.sha256, purged_at__isnull=True).exclude(pk=locked.pk).exists()
                          or Evidence.objects.filter(sha256=locked.sha256).exclude(pk=locked.evidence_id or 0).exists())  # fmt: skip
                locked.purged_at = now
                locked.save(update_fields=["purged_at"])
                record = PurgeRecord.objects.create(run_at=now, recording=locked, case_id_snapshot=locked.case_id,
                                                    sha256=locked.sha256, size=locked.size, file_deleted=not others,
                                                    retention_days=days)  # fmt: skip
                audit_log(actor=None, action="qa.recording.purge", object_type="qa.recording", object_id=locked.pk,
                          new={"sha256": locked.sha256, "file_deleted": not others, "retention_days": days})  # fmt: skip
                if not others:
                    transaction.on_commit(_unlinker(locked.sha256))
            done.append(record)
    return done
