"""Backup → restore round trip (counts and checksums), tampering, wrong passphrase; full-disk export."""

from __future__ import annotations

import io
import os
import resource
import shutil
import signal
import tarfile
from datetime import date

import polars as pl
import pytest

from fieldcollect.cases.models import Case
from fieldcollect.cases.tests import factories as f
from fieldcollect.daily.cycle import publish_run, published_path
from fieldcollect.home import daily_root, keys_dir
from fieldcollect.ingest import store
from fieldcollect.ops.backup import BackupError, backup, read_manifest, restore, sha256_file, table_counts
from fieldcollect.ops.exports import ExportError, export_cases
from fieldcollect.ops.models import Job

pytestmark = pytest.mark.django_db(transaction=True)
AS_OF = date(2026, 6, 30)


def _tree_checksums(root) -> dict[str, str]:
    return {str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def installation(fc_home):
    cases = [f.make_case() for _ in range(5)]
    version = store.write_version({"loans": pl.DataFrame({"loan_id": [c.loan_id for c in cases],
                                                          "principal_fen": [100_000] * 5})})
    store.publish(version)
    run_dir = daily_root() / ".runs" / f"{AS_OF}-abc"
    run_dir.mkdir(parents=True)
    pl.DataFrame({"loan_id": [1, 2], "dpd": [0, 31]}).write_parquet(run_dir / "loan_status.parquet")
    (run_dir / "summary.json").write_text('{"loans": 2}')
    publish_run(run_dir, AS_OF)
    (keys_dir() / "field_data.key").write_bytes(b"\x01" * 32)
    return {"cases": cases, "version": version}


def test_backup_restore_round_trip(installation, fc_home, tmp_path):
    before_counts = table_counts()
    store_sums = _tree_checksums(installation["version"].path)
    daily_sums = _tree_checksums(published_path(AS_OF).resolve())
    out = tmp_path / "backups" / "fc.tar.gz"
    n_key_files = sum(1 for p in keys_dir().iterdir() if p.is_file())  # with the encryption key ring
    registry = fc_home / "models" / "early_warning" / "v1"  # a model artefact in the registry
    registry.mkdir(parents=True)
    (registry / "model.bin").write_bytes(b"model bytes \x00\x01")
    result = backup(out=out, passphrase="correct horse")
    assert result.counts == before_counts and result.counts["cases_case"] == 5
    assert result.store_version == installation["version"].name and result.daily_runs == 1
    keys_blob = result.keys_file.read_bytes()
    assert b"\x01" * 32 not in keys_blob  # encrypted, not just archived
    with tarfile.open(out) as tar:
        assert not any("keys" in n for n in tar.getnames())
    # damage: more rows, a lost store, a lost daily link, a lost key
    Job.objects.create(kind="export")
    Case.objects.filter(pk=installation["cases"][0].pk).update(dpd=999)
    (fc_home / "store" / "CURRENT").unlink()
    published_path(AS_OF).unlink()
    (keys_dir() / "field_data.key").unlink()
    shutil.rmtree(fc_home / "models")
    restored = restore(archive=out, passphrase="correct horse", force=True)
    assert restored.counts == before_counts
    assert Job.objects.count() == 0 and not Case.objects.filter(dpd=999).exists()
    assert restored.files_verified == len(read_manifest(out)["files"]) and restored.keys_restored == n_key_files
    current = store.current_version()
    assert current is not None and current.name == installation["version"].name
    assert _tree_checksums(current.path) == store_sums
    assert _tree_checksums(published_path(AS_OF).resolve()) == daily_sums
    assert (keys_dir() / "field_data.key").read_bytes() == b"\x01" * 32
    assert (registry / "model.bin").read_bytes() == b"model bytes \x00\x01"


def test_restore_refuses_a_tampered_archive_and_a_wrong_passphrase(installation, tmp_path):
    out = tmp_path / "fc.tar.gz"
    backup(out=out, passphrase="pw")
    # rewrite the archive with one changed byte in a store file
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(out) as src, tarfile.open(bad, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else b""
            if member.name.startswith("store/") and member.name.endswith(".parquet"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            dst.addfile(member, io.BytesIO(data))
    with pytest.raises(BackupError, match="checksum mismatch"):
        restore(archive=bad, passphrase="pw", keys_file=out.with_name(out.name + ".keys.enc"), force=True)
    Job.objects.create(kind="export")
    with pytest.raises(BackupError, match="wrong passphrase"):
        restore(archive=out, passphrase="not it", force=True)
    assert Job.objects.count() == 1  # nothing was restored
    with pytest.raises(BackupError, match="already has store version"):
        restore(archive=out, passphrase="pw")


def test_export_on_a_full_disk_gives_a_clear_error(tmp_path):
    for _ in range(50):
        f.make_case()
    out = tmp_path / "exports" / "cases.csv"
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, hard))
    try:
        with pytest.raises(ExportError, match="disk full") as err:
            export_cases(out=out, chunk=10)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)
    assert "Nothing was published" in str(err.value)
    assert not out.exists() and list(out.parent.iterdir()) == []  # no partial file left behind
    result = export_cases(out=out)
    assert result.rows == 50 and out.exists() and sha256_file(out) == result.sha256


def test_export_to_dev_full_gives_a_clear_error(tmp_path, monkeypatch):
    """ENOSPC proper: the temporary file is /dev/full."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    f.make_case()
    from pathlib import Path

    import fieldcollect.ops.exports as exports

    real_with_name = Path.with_name
    monkeypatch.setattr(Path, "with_name",
                        lambda self, name: Path("/dev/full") if name.startswith(".cases.csv.tmp") else
                        real_with_name(self, name))
    monkeypatch.setattr(Path, "unlink", lambda self, missing_ok=False: None)
    with pytest.raises(exports.ExportError, match="disk full"):
        export_cases(out=tmp_path / "cases.csv")
    assert not (tmp_path / "cases.csv").exists()
