from __future__ import annotations

from fieldcollect.cases.tests.conftest import World, world  # noqa: F401
