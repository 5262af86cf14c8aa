"""A pytest plugin (registered in the root ``conftest.py``): every test hashes passwords with a fast
hasher. The production hashers are slow on purpose; tests create users by the hundred and no test
measures the hasher's cost (the log-in rules are about attempts and lock-outs, not timing)."""

from __future__ import annotations

from typing import Any

import pytest

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = FAST_HASHERS
