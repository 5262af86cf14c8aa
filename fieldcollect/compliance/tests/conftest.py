from __future__ import annotations

from fieldcollect.cases.tests.conftest import World, _fast_password_hashing, world  # noqa: F401
