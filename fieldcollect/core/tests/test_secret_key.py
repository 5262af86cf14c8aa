"""The generated ``SECRET_KEY`` file: created with O_EXCL and mode 0600 from the start; when two
processes start at once the loser reads the winner's key (issue 17, item 12)."""

from __future__ import annotations

import os
import secrets
import stat

import pytest

from config import settings as config_settings


@pytest.fixture
def no_env_key(fc_home, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    return fc_home / "keys" / "django_secret_key"


def test_the_key_file_is_private_from_the_start(no_env_key, monkeypatch):
    old_umask = os.umask(0o022)
    try:
        # a chmod after the write would come too late (the file was readable in between): refuse it
        monkeypatch.setattr(os, "chmod", lambda *a, **k: None)
        monkeypatch.setattr(type(no_env_key), "chmod", lambda *a, **k: None)
        key = config_settings._secret_key()
    finally:
        os.umask(old_umask)
    assert len(key) >= 50
    assert stat.S_IMODE(no_env_key.stat().st_mode) == 0o600
    assert config_settings._secret_key() == key  # read back, not regenerated


def test_two_processes_at_once_share_the_winners_key(no_env_key, monkeypatch):
    real = secrets.token_urlsafe

    def other_process_wins(n: int | None = None) -> str:
        # the other process creates the file between our existence check and our create
        no_env_key.write_text("the-winners-key")
        return real(n)

    monkeypatch.setattr(config_settings.secrets, "token_urlsafe", other_process_wins)
    assert config_settings._secret_key() == "the-winners-key"
    assert no_env_key.read_text() == "the-winners-key"  # not overwritten


def test_an_empty_key_file_is_a_clear_error(no_env_key):
    no_env_key.parent.mkdir(parents=True, exist_ok=True)
    no_env_key.write_text("")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config_settings._secret_key(wait_seconds=0.1)


def test_the_environment_wins(no_env_key, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    assert config_settings._secret_key() == "from-env"
    assert not no_env_key.exists()
