"""Evidence files: the kind decided from the content, the size bounded while the body arrives, the
file encrypted at rest from its first byte (:mod:`fieldcollect.privacy.filecrypt`).

An upload is staged by :class:`EvidenceIntake` (fed chunk by chunk, by a plain stream or by
:class:`EvidenceUploadHandler` straight from the request body, so nothing is buffered in clear, in
memory or in a temporary file); the first bytes decide the kind (:func:`sniff`, a table of signatures:
the client's kind and content type are not trusted); more than :func:`max_evidence_bytes` stops the
upload at once. The sealed file is stored under ``$FIELDCOLLECT_HOME/evidence/<sha256 of the
plaintext>`` (the name is bound to the file's last chunk). :func:`evidence_chunks` decrypts it as it
is read, for the download view, which checks access and audits first.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils.translation import gettext as _

from fieldcollect.core.errors import ApplicationError
from fieldcollect.home import home_dir
from fieldcollect.privacy import filecrypt
from fieldcollect.privacy.fields import current_keyring
from fieldcollect.visits.errors import VisitErrorCode as E

__all__ = ["DEFAULT_MAX_BYTES", "EvidenceIntake", "EvidenceUploadHandler", "Sniffed", "StagedEvidence",
           "body_too_large", "evidence_chunks", "evidence_path", "evidence_root", "max_evidence_bytes",
           "seal_clear_files", "sniff"]

DEFAULT_MAX_BYTES = 2 * 1024**3
HEAD_BYTES = 64  # enough for every signature below
FIELD = "file"


def max_evidence_bytes() -> int:
    return int(getattr(settings, "FIELDCOLLECT_EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


def evidence_root() -> Path:
    path = home_dir() / "evidence"
    path.mkdir(parents=True, exist_ok=True)
    return path


def evidence_path(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ApplicationError(_("Unknown evidence file."), code=E.EVIDENCE_UNKNOWN, status_code=404)
    return evidence_root() / sha256


# ---------------------------------------------------------------- what the content is

@dataclass(frozen=True)
class Sniffed:
    kind: str  # Evidence.Kind value: photo | audio | video
    mime: str


_FTYP_BRANDS = {
    b"heic": ("photo", "image/heic"), b"heix": ("photo", "image/heic"), b"mif1": ("photo", "image/heif"),
    b"msf1": ("photo", "image/heif"), b"hevc": ("photo", "image/heic"),
    b"M4A ": ("audio", "audio/mp4"), b"M4B ": ("audio", "audio/mp4"),
    b"isom": ("video", "video/mp4"), b"iso2": ("video", "video/mp4"), b"iso4": ("video", "video/mp4"),
    b"iso5": ("video", "video/mp4"), b"iso6": ("video", "video/mp4"), b"mp41": ("video", "video/mp4"),
    b"mp42": ("video", "video/mp4"), b"avc1": ("video", "video/mp4"), b"dash": ("video", "video/mp4"),
    b"qt  ": ("video", "video/quicktime"), b"3gp4": ("video", "video/3gpp"), b"3gp5": ("video", "video/3gpp"),
    b"3gp6": ("video", "video/3gpp"), b"3g2a": ("video", "video/3gpp2"),
}


def sniff(head: bytes) -> Sniffed | None:
    """The kind of a file from its first bytes (JPEG, PNG, HEIC/HEIF; MP4/MOV/3GP, WebM; M4A, MP3, AAC,
    WAV, AMR, Ogg), else ``None``. The name and the content type the client sends are not used."""
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("photo", "image/jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("photo", "image/png")
    if len(head) >= 12 and head[4:8] == b"ftyp":
        found = _FTYP_BRANDS.get(head[8:12])
        return Sniffed(*found) if found else None
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed("video", "video/webm")
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return Sniffed("audio", "audio/wav")
    if head.startswith((b"#!AMR\n", b"#!AMR-WB\n")):
        return Sniffed("audio", "audio/amr")
    if head.startswith(b"OggS"):
        return Sniffed("audio", "audio/ogg")
    if head.startswith(b"ID3"):
        return Sniffed("audio", "audio/mpeg")
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return Sniffed("audio", "audio/aac")  # ADTS
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return Sniffed("audio", "audio/mpeg")  # an MPEG audio frame (layer I-III)
    return None


# ---------------------------------------------------------------- staging an upload

@dataclass(frozen=True)
class StagedEvidence:
    """A sealed upload waiting in the evidence folder under a temporary name."""

    tmp_path: Path
    sha256: str
    size: int
    kind: str
    mime: str

    def discard(self) -> None:
        self.tmp_path.unlink(missing_ok=True)


class EvidenceIntake:
    """Receives an evidence file chunk by chunk: checks the signature on the first bytes, counts the
    size (refused past the limit, before more is read), hashes and seals as it goes."""

    def __init__(self, *, limit: int | None = None) -> None:
        self.limit = max_evidence_bytes() if limit is None else limit
        self.size = 0
        self._digest = hashlib.sha256()
        self._head = b""
        self._sniffed: Sniffed | None = None
        fd, name = tempfile.mkstemp(dir=evidence_root(), prefix=".upload-")  # 0600, O_EXCL
        self._path = Path(name)
        self._fh: IO[bytes] = os.fdopen(fd, "wb")
        try:
            self._sealer = filecrypt.Sealer(self._fh, ring=current_keyring())
        except BaseException:
            self.abort()
            raise

    def feed(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self.size > self.limit:
            self.abort()
            raise ApplicationError(_("The file is too large (at most %(mb)d MB).") % {"mb": self.limit // 1024**2},
                                   code=E.EVIDENCE_TOO_LARGE, status_code=413)
        if self._sniffed is None:
            self._head += data[:HEAD_BYTES]
            if len(self._head) >= HEAD_BYTES:
                self._check_head()
        self._digest.update(data)
        self._sealer.write(data)

    def _check_head(self) -> None:
        self._sniffed = sniff(self._head)
        if self._sniffed is None:
            self.abort()
            raise ApplicationError(
                _("Evidence must be a photo (JPEG, PNG, HEIC), a recording (MP3, M4A, AAC, WAV, AMR, Ogg) "
                  "or a video (MP4, MOV, 3GP, WebM); this file is none of them."), code=E.EVIDENCE_KIND,
                status_code=415)

    def finish(self) -> StagedEvidence:
        if self.size == 0:
            self.abort()
            raise ApplicationError(_("The file is empty."), code=E.EVIDENCE_EMPTY)
        if self._sniffed is None:
            self._check_head()
        assert self._sniffed is not None
        sha = self._digest.hexdigest()
        try:
            self._sealer.finish(name=sha.encode())
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
        except BaseException:
            self.abort()
            raise
        return StagedEvidence(tmp_path=self._path, sha256=sha, size=self.size, kind=self._sniffed.kind,
                              mime=self._sniffed.mime)

    def abort(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        self._path.unlink(missing_ok=True)

    def read_from(self, stream: IO[bytes]) -> StagedEvidence:
        try:
            for chunk in iter(lambda: stream.read(filecrypt.CHUNK), b""):
                self.feed(chunk)
        except BaseException:
            self.abort()
            raise
        return self.finish()


class SealedUpload(UploadedFile):
    """What the form sees of an upload handled by :class:`EvidenceUploadHandler`: a name and a size;
    the content is already sealed in ``staged``."""

    def __init__(self, *, staged: StagedEvidence, name: str) -> None:
        super().__init__(file=None, name=name, content_type=staged.mime, size=staged.size)
        self.staged = staged


class EvidenceUploadHandler(FileUploadHandler):
    """Streams the evidence upload of a request into an :class:`EvidenceIntake` (install it before
    the body is read, as the only handler). A refusal stops the upload and is kept in ``error``; the
    rest of the body is read and dropped, never stored. (A declared ``Content-Length`` past the limit
    is refused by the view before any of the body is read: :func:`body_too_large`.)"""

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.intake: EvidenceIntake | None = None
        self.error: ApplicationError | None = None
        self.staged: StagedEvidence | None = None

    def new_file(self, field_name: str, file_name: str, content_type: str, content_length: int | None,
                 charset: str | None = None, content_type_extra: dict[str, bytes] | None = None) -> None:
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        if field_name != FIELD or self.intake is not None or self.staged is not None:
            self.error = ApplicationError(_("Send one evidence file at a time."), code=E.EVIDENCE_ONE_FILE)
            raise StopUpload()
        self.intake = EvidenceIntake()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        assert self.intake is not None
        try:
            self.intake.feed(raw_data)
        except ApplicationError as exc:
            self.error, self.intake = exc, None
            raise StopUpload() from exc
        return None

    def file_complete(self, file_size: int) -> SealedUpload | None:
        intake, self.intake = self.intake, None
        if intake is None:
            return None
        try:
            self.staged = intake.finish()
        except ApplicationError as exc:
            self.error = exc
            return None
        return SealedUpload(staged=self.staged, name=self.file_name or "")

    def upload_interrupted(self) -> None:
        if self.intake is not None:
            self.intake.abort()
            self.intake = None
        if self.staged is not None:
            self.staged.discard()
            self.staged = None


def body_too_large(content_length: str | None) -> ApplicationError | None:
    """The refusal of a request body declared larger than an evidence file may be (plus the form's
    other fields), else ``None``."""
    try:
        declared = int(content_length or 0)
    except ValueError:
        declared = 0
    limit = max_evidence_bytes()
    if declared <= limit + 64 * 1024:
        return None
    return ApplicationError(_("The file is too large (at most %(mb)d MB).") % {"mb": limit // 1024**2},
                            code=E.EVIDENCE_TOO_LARGE, status_code=413)


# ---------------------------------------------------------------- reading a stored file

def evidence_chunks(*, sha256: str) -> Iterator[bytes]:
    """The plaintext of a stored evidence file, decrypted chunk by chunk. A file that is not sealed
    (stored before encryption: the visits migration 0006 seals them) or fails authentication raises
    :class:`ApplicationError`."""
    path = evidence_path(sha256)
    if not path.is_file():
        raise ApplicationError(_("Unknown evidence file."), code=E.EVIDENCE_UNKNOWN, status_code=404)
    fh = path.open("rb")
    try:
        if not filecrypt.is_sealed(fh.read(len(filecrypt.MAGIC))):
            raise ApplicationError(_("The evidence file is stored in clear: run the migrations (python manage.py migrate) to "
                                     "encrypt it."),
                                   code=E.EVIDENCE_CLEAR_FILE, status_code=409)
        fh.seek(0)
        try:
            yield from filecrypt.open_sealed(fh, ring=current_keyring(), name=sha256.encode())
        except filecrypt.FileCryptError as exc:
            raise ApplicationError(_("The evidence file is damaged or has been altered."),
                                   code=E.EVIDENCE_DAMAGED, status_code=409) from exc
    finally:
        fh.close()


def seal_clear_files(root: Path) -> int:
    """Encrypt in place every evidence file of ``root`` stored in clear (before issue 17); returns the
    number sealed. A file whose content does not match its name is left as it is."""
    if not root.is_dir():
        return 0
    sealed = 0
    for path in sorted(root.iterdir()):
        if not path.is_file() or len(path.name) != 64 or path.name.startswith("."):
            continue
        with path.open("rb") as fh:
            if filecrypt.is_sealed(fh.read(len(filecrypt.MAGIC))):
                continue
            fh.seek(0)
            digest = hashlib.sha256()
            for chunk in iter(lambda: fh.read(filecrypt.CHUNK), b""):
                digest.update(chunk)
        if digest.hexdigest() != path.name:
            continue
        path.chmod(0o600)
        if filecrypt.seal_file(path, ring=current_keyring(), name=path.name.encode()):
            sealed += 1
        path.chmod(0o440)
    return sealed
