"""Backup → restore round trip (counts and checksums), tampering, wrong passphrase, crafted archives,
concurrent writers, failures before the switch, non-archives; full-disk export."""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import signal
import sqlite3
import tarfile
import threading
import time
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from django.db import OperationalError, connection
from typer.testing import CliRunner

from fieldcollect.cases.models import Case
from fieldcollect.cli import app
from fieldcollect.daily.cycle import publish_run, published_path
from fieldcollect.home import daily_root, keys_dir
from fieldcollect.ingest import store
from fieldcollect.ops import backup as backup_module
from fieldcollect.ops.backup import (
    FAIL_STAGES,
    MANIFEST,
    SIGNATURE,
    BackupError,
    backup,
    open_manifest,
    read_manifest,
    restore,
    seal_manifest,
    sha256_file,
    table_counts,
)
from fieldcollect.ops.cli import PASSPHRASE_ENV
from fieldcollect.ops.exports import ExportError, export_cases
from fieldcollect.ops.models import Job
from fieldcollect.testing import factories as f
from fieldcollect.testing.concurrency import in_background
from fieldcollect.visits.evidence import evidence_root

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
            export_cases(out=out, chunk=10, purpose="fault test")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)
    assert "Nothing was published" in str(err.value)
    assert not out.exists() and list(out.parent.iterdir()) == []  # no partial file left behind
    result = export_cases(out=out, purpose="fault test")
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
        export_cases(out=tmp_path / "cases.csv", purpose="fault test")
    assert not (tmp_path / "cases.csv").exists()


# ------------------------------------------------------------------ a restore trusts nothing it reads
PASS = "correct horse"


def _home_state(home) -> dict[str, str]:
    """Every path under the data home: a file's SHA-256, a link's target, or 'dir' (the database aside)."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(home):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(home))
            if rel.startswith("fieldcollect.sqlite3"):
                continue
            state[rel] = ("-> " + os.readlink(path) if path.is_symlink() else
                          sha256_file(path) if path.is_file() else "dir")
    return state


def _rewrite(src, dst, *, edit=None, extra=(), seal=True, passphrase=PASS) -> None:
    """Copy the archive ``src`` to ``dst`` with its manifest changed by ``edit`` and sealed again with
    ``passphrase`` (as someone who knows it would), or left with the old seal (``seal=False``); ``extra``
    members (TarInfo, bytes) are appended."""
    with tarfile.open(src) as tar:
        members = [(m, (tar.extractfile(m) or io.BytesIO()).read()) for m in tar.getmembers()]
    assert [m.name for m, _ in members[:2]] == [MANIFEST, SIGNATURE]
    manifest = json.loads(members[0][1])
    if edit is not None:
        edit(manifest)
    body = json.dumps(manifest).encode()
    with tarfile.open(dst, "w:gz") as tar:
        for name, data in ((MANIFEST, body), (SIGNATURE, seal_manifest(body, passphrase) if seal else members[1][1])):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for member, data in members[2:]:
            tar.addfile(member, io.BytesIO(data))
        for member, data in extra:
            tar.addfile(member, io.BytesIO(data) if member.isreg() else None)


@pytest.fixture
def served(installation, fc_home, tmp_path):
    """A backup, then the installation moves on: a job, a new store version, evidence, a model; and a
    folder outside the data home that a crafted archive would like to delete."""
    evidence = evidence_root()
    (evidence / ("a" * 64)).write_bytes(b"photo before the backup")
    out = tmp_path / "fc.tar.gz"
    backup(out=out, passphrase=PASS)
    Job.objects.create(kind="export")
    store.publish(store.write_version({"loans": pl.DataFrame({"loan_id": [1], "principal_fen": [1]})}))
    (evidence / ("b" * 64)).write_bytes(b"photo after the backup")
    (fc_home / "models" / "early_warning").mkdir(parents=True)
    (fc_home / "models" / "early_warning" / "champion.json").write_text("{}")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    return {"archive": out, "victim": victim, "home": _home_state(fc_home), "counts": table_counts()}


def _assert_untouched(served, fc_home) -> None:
    assert (served["victim"] / "precious.txt").read_text() == "keep me"
    assert _home_state(fc_home) == served["home"]  # no staging folder left behind either
    assert table_counts() == served["counts"]


def _set(key, value):
    return lambda m: m.__setitem__(key, value)


def _add_file(rel):
    return lambda m: m["files"].__setitem__(rel, {"sha256": "0" * 64, "size": 0})


@pytest.mark.parametrize("edit", [
    _set("store_version", "../../victim"),
    "absolute store version",
    _set("daily_links", {"2026-06-30": "../../victim"}),
    "absolute daily link",
    _set("daily_links", {"../../victim": ".runs/2026-06-30-abc"}),
    _add_file("../victim/precious.txt"),
    _add_file("/etc/passwd"),
    _add_file("store/../../victim/x"),
    _add_file("keys/master.key"),
], ids=["store-dotdot", "store-absolute", "daily-dotdot", "daily-absolute", "daily-name-dotdot", "file-dotdot",
        "file-absolute", "file-inner-dotdot", "file-other-folder"])
def test_a_crafted_manifest_is_refused_and_nothing_outside_is_deleted(served, fc_home, tmp_path, edit):
    if edit == "absolute store version":
        edit = _set("store_version", str(served["victim"]))
    elif edit == "absolute daily link":
        edit = _set("daily_links", {"2026-06-30": str(served["victim"])})
    crafted = tmp_path / "crafted.tar.gz"
    _rewrite(served["archive"], crafted, edit=edit)  # sealed: whoever made it knew the passphrase
    with pytest.raises(BackupError, match=r"manifest\.json refused"):
        restore(archive=crafted, passphrase=PASS, force=True)
    _assert_untouched(served, fc_home)


def _member(name, kind=tarfile.REGTYPE, linkname="", data=b"x"):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data


@pytest.mark.parametrize(("member", "listed", "message"), [
    (_member("../../evil"), False, "not listed"),
    (_member("/tmp/fc-backup-evil"), False, "not listed"),
    (_member("evidence/" + "c" * 64, tarfile.SYMTYPE, "../../../evil"), True, "is a link"),
    (_member("evidence/" + "c" * 64, tarfile.LNKTYPE, "../../../evil"), True, "is a link"),
    (_member("evidence/" + "c" * 64, tarfile.CHRTYPE), True, "device"),
    (_member("evidence/" + "a" * 64), False, "repeated"),
], ids=["dotdot", "absolute", "symlink", "hardlink", "device", "repeated"])
def test_archive_members_outside_the_manifest_links_and_devices_are_refused(served, fc_home, tmp_path, member,
                                                                             listed, message):
    info = member[0]
    crafted = tmp_path / "crafted.tar.gz"
    edit = _add_file(info.name) if listed else None
    _rewrite(served["archive"], crafted, edit=edit, extra=[member])
    with pytest.raises(BackupError, match=message):
        restore(archive=crafted, passphrase=PASS, force=True)
    assert not (tmp_path / "evil").exists() and not Path("/tmp/fc-backup-evil").exists()
    _assert_untouched(served, fc_home)


def test_restore_writes_nothing_through_a_link_that_leads_out_of_the_data_home(served, fc_home, tmp_path):
    runs = daily_root() / ".runs"
    outside = tmp_path / "elsewhere"
    shutil.move(runs, outside)
    runs.symlink_to(outside)  # daily/.runs now leads out of the data home
    (outside / f"{AS_OF}-abc" / "note.txt").write_text("written after the backup")
    served["home"] = _home_state(fc_home)
    outside_before = _home_state(outside)
    with pytest.raises(BackupError, match="resolves outside"):
        restore(archive=served["archive"], passphrase=PASS, force=True)
    assert _home_state(outside) == outside_before
    _assert_untouched(served, fc_home)


def test_a_tampered_manifest_is_refused_before_anything_changes(served, fc_home, tmp_path):
    tampered = tmp_path / "tampered.tar.gz"
    _rewrite(served["archive"], tampered, edit=lambda m: m["counts"].__setitem__("ops_job", 1), seal=False)
    with pytest.raises(BackupError, match=r"manifest\.json was altered"):
        restore(archive=tampered, passphrase=PASS, force=True)
    _assert_untouched(served, fc_home)
    # a seal asking for a ruinous key derivation is not even tried
    with tarfile.open(served["archive"]) as tar:
        seal = json.loads(tar.extractfile(SIGNATURE).read())
    seal["kdf"]["n"] = 2**30
    with pytest.raises(BackupError, match="does not accept"):
        open_manifest(b"{}", json.dumps(seal).encode(), PASS)


def test_a_wrong_or_missing_passphrase_is_refused_before_anything_changes(served, fc_home, tmp_path):
    served["archive"].with_name(served["archive"].name + ".keys.enc").unlink()  # not even the keys to decrypt
    with pytest.raises(BackupError, match="wrong passphrase"):
        restore(archive=served["archive"], passphrase="not it", force=True)
    with pytest.raises(BackupError, match="passphrase is required"):
        restore(archive=served["archive"], passphrase=None, force=True)
    _assert_untouched(served, fc_home)
    with pytest.raises(BackupError, match="passphrase is required"):
        backup(out=tmp_path / "unsealed.tar.gz", passphrase=None)


def test_evidence_is_backed_up_and_restored(served, fc_home):
    evidence = evidence_root()
    (evidence / ".upload-partial").write_bytes(b"half an upload")  # not yet evidence: left out
    manifest = read_manifest(served["archive"], passphrase=PASS)
    assert "evidence" in manifest["folders"]
    assert [n for n in manifest["files"] if n.startswith("evidence/")] == ["evidence/" + "a" * 64]
    (evidence / ("a" * 64)).unlink()
    restore(archive=served["archive"], passphrase=PASS, force=True)
    assert sorted(p.name for p in evidence.iterdir()) == ["a" * 64]  # exactly the evidence of the backup
    assert (evidence / ("a" * 64)).read_bytes() == b"photo before the backup"


def test_counts_match_the_dump_while_rows_are_inserted(installation, tmp_path, monkeypatch):
    inserted = [0]
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            try:
                Job.objects.create(kind="export")
                inserted[0] += 1
            except OperationalError:  # SQLite: the copy holds the lock for a moment
                time.sleep(0.001)

    with in_background(writer, stop=stop.set):
        while inserted[0] < 5:
            time.sleep(0.01)
        before = inserted[0]
        with monkeypatch.context() as m:
            if connection.vendor == "sqlite":  # the copy is one short step: let a row land as the dump starts
                real_connect = sqlite3.connect

                def connect(*args, **kwargs):
                    seen = inserted[0]
                    while inserted[0] == seen:
                        time.sleep(0.001)
                    return real_connect(*args, **kwargs)

                m.setattr(backup_module.sqlite3, "connect", connect)
            result = backup(out=tmp_path / "fc.tar.gz", passphrase=PASS)
        during = inserted[0] - before
    assert during > 0  # the writer kept writing while the backup ran
    assert Job.objects.count() > result.counts["ops_job"]
    restored = restore(archive=tmp_path / "fc.tar.gz", passphrase=PASS, force=True)  # counts checked vs the dump
    assert restored.counts["ops_job"] == result.counts["ops_job"] == Job.objects.count()


@pytest.mark.parametrize("failure", [*FAIL_STAGES, "counts"])
def test_a_failure_before_the_switch_leaves_the_installation_untouched(installation, served, fc_home, tmp_path,
                                                                      failure):
    archive = served["archive"]
    if failure == "counts":  # a dump that does not hold what its manifest says
        archive = tmp_path / "miscounted.tar.gz"
        _rewrite(served["archive"], archive, edit=lambda m: m["counts"].__setitem__("cases_case", 4))
    with pytest.raises(BackupError, match="simulated failure" if failure != "counts" else "row counts differ"):
        restore(archive=archive, passphrase=PASS, force=True, fail_after=None if failure == "counts" else failure)
    _assert_untouched(served, fc_home)
    assert Job.objects.count() == 1
    # and the same archive restores afterwards
    restored = restore(archive=served["archive"], passphrase=PASS, force=True)
    assert Job.objects.count() == 0 and restored.store_version == installation["version"].name


def test_restore_of_a_non_archive_exits_2_with_a_clear_message(fc_home, tmp_path, monkeypatch):
    monkeypatch.setenv(PASSPHRASE_ENV, PASS)
    good = tmp_path / "fc.tar.gz"
    f.make_case()
    backup(out=good, passphrase=PASS)
    plain_tar = tmp_path / "plain.tar.gz"
    with tarfile.open(plain_tar, "w:gz") as tar:
        info = tarfile.TarInfo("notes.txt")
        tar.addfile(info, io.BytesIO(b""))
    samples = {
        "garbage.tar.gz": (b"this is not an archive\n" * 100, "not a readable fieldcollect backup"),
        "empty.tar.gz": (b"", "not a readable fieldcollect backup"),
        "truncated.tar.gz": (good.read_bytes()[: good.stat().st_size // 2], "not a readable fieldcollect backup"),
        "plain.tar.gz": (plain_tar.read_bytes(), "does not start with manifest.json"),
    }
    runner = CliRunner()
    for name, (data, message) in samples.items():
        path = tmp_path / name
        path.write_bytes(data)
        out = runner.invoke(app, ["restore", str(path), "--force"])
        assert out.exit_code == 2, (name, out.output, out.exception)
        assert message in out.output, (name, out.output)
    out = runner.invoke(app, ["restore", str(tmp_path), "--force"])  # a folder
    assert out.exit_code == 2 and "not a file" in out.output
    out = runner.invoke(app, ["backup", "--out", str(good / "x.tar.gz")])  # inside a file: cannot be written
    assert out.exit_code == 2 and "File exists" in out.output, out.output
    monkeypatch.delenv(PASSPHRASE_ENV)
    out = runner.invoke(app, ["backup", "--out", str(tmp_path / "x.tar.gz"), "--no-keys"])
    assert out.exit_code == 2 and "authenticates the archive" in out.output


@pytest.mark.skipif(connection.vendor != "postgresql", reason="dumpdata is the PostgreSQL fallback without pg_dump")
def test_a_dumpdata_backup_restores_in_one_transaction(served, tmp_path, monkeypatch):
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "pg_dump" else which(name))
    out = tmp_path / "dumpdata.tar.gz"
    made = backup(out=out, passphrase=PASS)
    assert read_manifest(out)["database"]["format"] == "dumpdata"
    with pytest.raises(BackupError, match="simulated failure"):
        restore(archive=out, passphrase=PASS, force=True, fail_after="database")
    assert Job.objects.count() == 1
    assert restore(archive=out, passphrase=PASS, force=True).counts == made.counts  # content types from the dump
