"""Evidence uploads (issue 17, item 11): the kind from the content, the size bounded before and while
the body is read (nothing in clear on disk, not even a temporary file), encrypted at rest in chunks
that detect tampering, truncation, reordering and renaming, served only through the access check
(audited), and files stored in clear before the change sealed in place."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.test import Client

from fieldcollect.audit.models import AuditEntry
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import Role
from fieldcollect.privacy import filecrypt
from fieldcollect.privacy.crypto import keyring_for
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in
from fieldcollect.visits import services
from fieldcollect.visits.evidence import evidence_chunks, evidence_root, seal_clear_files, sniff
from fieldcollect.visits.models import Evidence
from fieldcollect.visits.tests import samples
from fieldcollect.visits.tests.conftest import at

# ---------------------------------------------------------------- the sealed format (no database)


@pytest.fixture
def ring(tmp_path, monkeypatch):
    monkeypatch.delenv("FIELDCOLLECT_MASTER_KEY", raising=False)
    return keyring_for(tmp_path / "keys")


def _seal(ring, data: bytes, name: bytes = b"n") -> bytes:
    out = io.BytesIO()
    sealer = filecrypt.Sealer(out, ring=ring)
    for i in range(0, len(data), 10_000):  # fed in pieces that do not match the chunk size
        sealer.write(data[i:i + 10_000])
    sealer.finish(name=name)
    return out.getvalue()


def _open(ring, blob: bytes, name: bytes = b"n") -> bytes:
    return b"".join(filecrypt.open_sealed(io.BytesIO(blob), ring=ring, name=name))


@pytest.mark.parametrize("size", [1, filecrypt.CHUNK - 1, filecrypt.CHUNK, filecrypt.CHUNK + 1, 3 * filecrypt.CHUNK,
                                  200_000])
def test_round_trip_of_every_size(ring, size):
    data = os.urandom(size)
    blob = _seal(ring, data)
    assert _open(ring, blob) == data
    assert size < 16 or data[:64] not in blob
    assert len(blob) == filecrypt.HEADER_BYTES + size + filecrypt.TAG * max(1, -(-size // filecrypt.CHUNK))


def test_tampering_truncation_reordering_extension_and_renaming_are_detected(ring):
    data = os.urandom(3 * filecrypt.CHUNK + 100)
    blob = _seal(ring, data)
    h, block = filecrypt.HEADER_BYTES, filecrypt.CHUNK + filecrypt.TAG
    chunks = [blob[h + i * block:h + (i + 1) * block] for i in range(4)]
    flipped = bytearray(blob)
    flipped[h + block + 5] ^= 1
    cases = {
        "a flipped bit": bytes(flipped),
        "cut at a chunk boundary": blob[:h + 2 * block],
        "cut inside a chunk": blob[:h + 2 * block + 100],
        "the final chunk dropped": blob[:h] + b"".join(chunks[:3]),
        "two chunks swapped": blob[:h] + chunks[1] + chunks[0] + chunks[2] + chunks[3],
        "a chunk appended": blob + chunks[1],
        "the header's key id changed": blob[:8] + b"00000000" + blob[16:],
        "a header byte changed": blob[:20] + bytes([blob[20] ^ 1]) + blob[21:],
    }
    for what, bad in cases.items():
        with pytest.raises(filecrypt.FileCryptError):
            _open(ring, bad)
        assert what  # (named for the reader)
    with pytest.raises(filecrypt.FileCryptError):
        _open(ring, blob, name=b"another file's name")
    with pytest.raises(filecrypt.FileCryptError):
        _open(ring, data)  # a clear file is not a sealed one


def test_a_key_rotation_keeps_older_files_readable(ring):
    data = b"before the rotation" * 1000
    blob = _seal(ring, data)
    ring.add_primary()
    assert _open(ring, blob) == data and _open(ring, _seal(ring, data)) == data


@pytest.mark.parametrize(("head", "kind"), [
    (samples.JPEG, "photo"), (samples.PNG, "photo"), (samples.HEIC, "photo"), (samples.MP4, "video"),
    (samples.M4A, "audio"), (samples.MP3, "audio"), (samples.MP3_FRAME, "audio"), (samples.WAV, "audio"),
    (samples.AMR, "audio"), (samples.TEXT, None), (b"%PDF-1.7\n" + b"x" * 60, None), (b"", None),
])
def test_the_kind_comes_from_the_content(head, kind):
    found = sniff(head[:64])
    assert (found.kind if found else None) == kind


# ---------------------------------------------------------------- uploads through the page


def _report(vw):
    services.team_create(member_a=vw.c1, member_b=vw.c2, day=vw.day, acting_user=vw.manager)
    a, _t = services.appointment_propose(case=vw.case1, acting_user=vw.user1,
                                         windows=[(at(vw.day, 10), at(vw.day, 12))], now=f.in_hours())
    services.appointment_confirm(appointment=a, window=0, now=f.in_hours())
    return services.report_start(case=vw.case1, acting_user=vw.user1, recording=True, at=at(vw.day, 10, 5))


def _leftovers() -> list[str]:
    return sorted(p.name for p in evidence_root().iterdir())


@pytest.fixture
def no_clear_buffering(monkeypatch):
    """Django's default handlers (memory, temporary file) would hold the body in clear: never used."""
    def refuse(*a, **k):
        raise AssertionError("the upload was buffered by a default handler")

    monkeypatch.setattr(TemporaryFileUploadHandler, "new_file", refuse)
    monkeypatch.setattr(MemoryFileUploadHandler, "new_file", refuse)


@pytest.mark.django_db
def test_upload_kind_from_content_sealed_at_rest_and_csrf_still_checked(vw, no_clear_buffering):
    report = _report(vw)
    c = logged_in(vw.user1)
    # the client calls an MP3 recording a photo: the content decides
    upload = SimpleUploadedFile("door.jpg", samples.MP3, content_type="image/jpeg")
    r = c.post(f"/visits/report/{report.pk}/evidence", {"file": upload, "kind": "photo"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "error-box" not in r.content.decode()
    ev = Evidence.objects.get(report=report)
    assert (ev.kind, ev.content_type, ev.size) == ("audio", "audio/mpeg", len(samples.MP3))
    assert ev.sha256 == hashlib.sha256(samples.MP3).hexdigest()
    stored = (evidence_root() / ev.sha256).read_bytes()
    assert filecrypt.is_sealed(stored) and samples.MP3[:16] not in stored and b"audio of the visit" not in stored
    assert _leftovers() == [ev.sha256]  # no temporary file left behind
    # the CSRF check still applies to this view (it runs after the upload handler is installed)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(vw.user1)
    strict.get(f"/visits/report/{report.pk}/")  # a CSRF cookie, but the form below does not carry the token
    refused = strict.post(f"/visits/report/{report.pk}/evidence",
                          {"file": SimpleUploadedFile("a.jpg", samples.JPEG)})
    assert refused.status_code == 403 and Evidence.objects.filter(report=report).count() == 1
    assert _leftovers() == [ev.sha256]  # the refused upload left nothing behind


@pytest.mark.django_db
def test_a_file_of_no_evidence_kind_is_refused_whatever_its_name(vw, no_clear_buffering):
    report = _report(vw)
    c = logged_in(vw.user1)
    for name, data, ctype in (("visit.mp3", samples.TEXT, "audio/mpeg"), ("a.pdf", b"%PDF-1.7\n" + b"x" * 80,
                                                                        "image/jpeg")):
        r = c.post(f"/visits/report/{report.pk}/evidence", {"file": SimpleUploadedFile(name, data, ctype)},
                   HTTP_HX_REQUEST="true")
        assert "error-box" in r.content.decode() and "MP4" in r.content.decode()
    assert not Evidence.objects.filter(report=report).exists() and _leftovers() == []


@pytest.mark.django_db
def test_too_large_is_stopped_before_and_while_the_body_is_read(vw, settings, no_clear_buffering, monkeypatch):
    settings.FIELDCOLLECT_EVIDENCE_MAX_BYTES = 100 * 1024
    report = _report(vw)
    c = logged_in(vw.user1)
    fed: list[int] = []
    real_feed = filecrypt.Sealer.write
    monkeypatch.setattr(filecrypt.Sealer, "write", lambda self, d: (fed.append(len(d)), real_feed(self, d))[1])
    # declared larger than the limit: refused before a byte of the body is read
    big = SimpleUploadedFile("v.mp4", samples.MP4 + b"\x00" * (1024 * 1024), content_type="video/mp4")
    r = c.post(f"/visits/report/{report.pk}/evidence", {"file": big})
    assert r.status_code == 413 and fed == []
    # under the declared limit (+ form overhead), larger than the file limit: stopped while streaming
    mid = SimpleUploadedFile("v.mp4", samples.MP4 + b"\x00" * (150 * 1024), content_type="video/mp4")
    r = c.post(f"/visits/report/{report.pk}/evidence", {"file": mid}, HTTP_HX_REQUEST="true")
    assert "error-box" in r.content.decode()
    assert sum(fed) <= 100 * 1024  # nothing past the limit was sealed, let alone stored
    assert not Evidence.objects.filter(report=report).exists() and _leftovers() == []
    # hard negative: a file under the limit goes through
    ok = SimpleUploadedFile("v.mp4", samples.MP4 + b"\x00" * (50 * 1024), content_type="video/mp4")
    c.post(f"/visits/report/{report.pk}/evidence", {"file": ok}, HTTP_HX_REQUEST="true")
    assert Evidence.objects.get(report=report).kind == "video"


@pytest.mark.django_db
def test_the_service_refuses_before_reading_when_the_user_may_not_add(vw):
    report = _report(vw)

    class Untouchable(io.BytesIO):
        def read(self, *a):
            raise AssertionError("read before the permission check")

    with pytest.raises(ApplicationError) as exc:
        services.evidence_add(report=report, acting_user=vw.user2, stream=Untouchable(), name="x")
    assert exc.value.code == "visit.not_owner"


# ---------------------------------------------------------------- downloads


@pytest.mark.django_db
def test_download_through_the_access_check_only_audited_and_decrypted(vw, django_user_model):
    report = _report(vw)
    data = samples.WAV + os.urandom(3 * 64 * 1024)
    ev = services.evidence_add(report=report, acting_user=vw.user1, stream=io.BytesIO(data), name="visit.wav")
    url = f"/visits/evidence/{ev.pk}"
    mine = logged_in(vw.user1)
    r = mine.get(url)
    assert r.status_code == 200 and r.streaming and b"".join(r.streaming_content) == data
    assert r["Content-Type"] == "audio/wav" and r["Cache-Control"] == "private, no-store"
    audit = AuditEntry.objects.filter(action="pii.unmask", actor=vw.user1).latest("pk")
    assert audit.new["purpose"] == "evidence" and audit.new["evidence"] == ev.pk
    # another agency's collector, and anyone logged out, get nothing
    other_agency = f.make_agency()
    stranger, _c = f.make_collector_user(agency=other_agency)
    outsider = logged_in(stranger)
    assert outsider.get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page
    assert not AuditEntry.objects.filter(action="pii.unmask", actor=stranger).exists()
    # the bank sees it (hard negative)
    bank = logged_in(f.make_user(role=Role.COLLECTIONS_MANAGER))
    assert b"".join(bank.get(url).streaming_content) == data
    # a file altered on disk is refused, not served
    path = evidence_root() / ev.sha256
    path.chmod(0o600)
    raw = bytearray(path.read_bytes())
    raw[filecrypt.HEADER_BYTES + 3] ^= 1
    path.write_bytes(bytes(raw))
    assert mine.get(url).status_code == 409


@pytest.mark.django_db
def test_files_stored_in_clear_before_are_sealed_in_place(vw):
    report = _report(vw)
    root = evidence_root()
    sha = hashlib.sha256(samples.JPEG).hexdigest()
    (root / sha).write_bytes(samples.JPEG)  # as the code before issue 17 stored it
    (root / sha).chmod(0o440)
    wrong = root / ("0" * 64)
    wrong.write_bytes(b"not matching its name")
    ev = Evidence.objects.create(report=report, kind="photo", sha256=sha, size=len(samples.JPEG),
                                 content_type="image/jpeg", uploaded_by=vw.user1)
    with pytest.raises(ApplicationError) as exc:  # a clear file is never served
        b"".join(evidence_chunks(sha256=sha))
    assert exc.value.code == "evidence.clear_file"
    assert seal_clear_files(root) == 1 and seal_clear_files(root) == 0  # idempotent
    stored = (root / sha).read_bytes()
    assert filecrypt.is_sealed(stored) and samples.JPEG not in stored
    assert oct((root / sha).stat().st_mode & 0o777) == "0o440"
    assert wrong.read_bytes() == b"not matching its name"  # left for an operator to look at
    assert b"".join(evidence_chunks(sha256=ev.sha256)) == samples.JPEG
    assert sorted(Path(p).name for p in root.iterdir()) == sorted([sha, "0" * 64])
