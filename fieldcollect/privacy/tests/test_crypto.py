"""The pure encryption library: envelope encryption, key ring, rotation state, blind index."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from fieldcollect.privacy import crypto
from fieldcollect.privacy.crypto import Binding, CryptoError, KeyRing

HERE = Binding("portfolio_customer", "address", "0" * 32)


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(crypto.MASTER_ENV, raising=False)
    return tmp_path / "keys"


def test_round_trip_and_format(keys: Path) -> None:
    ring = KeyRing(keys)
    value = ring.encrypt("北京市朝阳区建国路88号", HERE)
    assert value.startswith(f"fc2${ring.primary_id}$")
    assert "建国路" not in value
    assert ring.decrypt(value, HERE) == "北京市朝阳区建国路88号"
    assert ring.encrypt("13800138000", HERE) != ring.encrypt("13800138000", HERE)  # random nonce


@pytest.mark.parametrize("elsewhere", [
    Binding("portfolio_customer", "address", "1" * 32),  # another row
    Binding("portfolio_customer", "name", "0" * 32),  # another column of the same row
    Binding("cases_note", "address", "0" * 32),  # another table
], ids=["row", "column", "table"])
def test_a_bound_value_opens_only_where_it_was_written(keys: Path, elsewhere: Binding) -> None:
    ring = KeyRing(keys)
    value = ring.encrypt("北京市朝阳区建国路88号", HERE)
    with pytest.raises(CryptoError, match="another table, column or row"):
        ring.decrypt(value, elsewhere)
    with pytest.raises(CryptoError, match="needs its table, column and row"):
        ring.decrypt(value)
    assert ring.decrypt(value, HERE) == "北京市朝阳区建国路88号"


def test_unbound_values_still_decrypt_and_reencrypt_binds_them(keys: Path) -> None:
    ring = KeyRing(keys)
    legacy = ring.encrypt("13800138000", None)  # the fc1 format written before the row binding
    assert legacy.startswith(f"fc1${ring.primary_id}$")
    assert ring.decrypt(legacy) == ring.decrypt(legacy, HERE) == "13800138000"
    bound = ring.reencrypt(legacy, HERE)
    assert bound.startswith("fc2$") and ring.decrypt(bound, HERE) == "13800138000"
    assert ring.reencrypt(bound, HERE) == bound  # already current
    assert ring.reencrypt("13800138000", HERE).startswith("fc2$")  # plaintext is encrypted bound


def test_master_key_file_is_private_and_keys_are_wrapped(keys: Path) -> None:
    ring = KeyRing(keys)
    master = keys / crypto.MASTER_FILE
    assert stat.S_IMODE(master.stat().st_mode) == 0o600
    assert stat.S_IMODE(ring.path.stat().st_mode) == 0o600
    # the ring holds no raw key: each data key is 32 bytes, wrapped it is nonce + 32 + tag
    text = ring.path.read_text()
    for k in ring.data_keys():
        assert base64.urlsafe_b64encode(k.key).decode().rstrip("=") not in text


def test_tampered_value_and_wrong_master_key_fail(keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ring = KeyRing(keys)
    value = ring.encrypt("110105194912310021", HERE)
    body = value.rsplit("$", 1)[1]
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(CryptoError):
        ring.decrypt(value.rsplit("$", 1)[0] + "$" + flipped, HERE)
    with pytest.raises(CryptoError):
        ring.decrypt("fc2$00000000$" + body, HERE)  # unknown key id
    monkeypatch.setenv(crypto.MASTER_ENV, crypto.new_master_key_text())
    with pytest.raises(CryptoError, match="master key"):
        KeyRing(keys)


def test_master_key_from_environment_writes_no_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(crypto.MASTER_ENV, crypto.new_master_key_text())
    ring = KeyRing(tmp_path / "k")
    assert ring.decrypt(ring.encrypt("x", HERE), HERE) == "x"
    assert not (tmp_path / "k" / crypto.MASTER_FILE).exists()
    monkeypatch.setenv(crypto.MASTER_ENV, "too-short")
    with pytest.raises(CryptoError):
        crypto.load_master_key(tmp_path / "k")


def test_rotation_states_and_other_process_sees_new_primary(keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serving = KeyRing(keys)   # the application process
    rotating = KeyRing(keys)  # `fieldcollect keys rotate`
    old_id = serving.primary_id
    old_value = serving.encrypt("13912345678", HERE)
    new_id = rotating.add_primary()
    assert new_id != old_id
    # a value under the new key is readable at once by the serving process (unknown key -> reload)
    assert serving.decrypt(rotating.encrypt("abc", HERE), HERE) == "abc"
    monkeypatch.setattr(crypto, "RELOAD_SECONDS", 0.0)
    assert serving.encrypt("x", HERE).split("$")[1] == new_id
    again = rotating.reencrypt(old_value, HERE)
    assert crypto.key_id_of(again) == new_id and rotating.decrypt(again, HERE) == "13912345678"
    assert rotating.reencrypt(again, HERE) == again
    assert serving.decrypt(old_value, HERE) == "13912345678"  # old key still readable
    rotating.retire({old_id})
    states = {k.key_id: k.status for k in serving.data_keys()}
    assert states == {old_id: "retired", new_id: "primary"}
    assert serving.decrypt(old_value, HERE) == "13912345678"  # retired keys stay for old backups


@pytest.mark.parametrize(("a", "b"), [
    ("13800138000", "+86 138-0013-8000"),
    ("13800138000", "0086 13800138000"),
])
def test_blind_index_normalises_phone(keys: Path, a: str, b: str) -> None:
    ring = KeyRing(keys)
    assert ring.blind_index(a, "phone") == ring.blind_index(b, "phone")
    assert ring.blind_index(a, "phone") != ring.blind_index("13800138001", "phone")
    assert len(ring.blind_index(a, "phone")) == 32 and a not in ring.blind_index(a, "phone")


def test_blind_index_normalises_id_and_is_keyed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(crypto.MASTER_ENV, raising=False)
    one, other = KeyRing(tmp_path / "a"), KeyRing(tmp_path / "b")
    assert one.blind_index("11010519491231002x", "id_number") == one.blind_index("110105 19491231002X", "id_number")
    assert one.blind_index("11010519491231002X", "id_number") != other.blind_index("11010519491231002X", "id_number")
    assert one.blind_index("", "phone") == ""
