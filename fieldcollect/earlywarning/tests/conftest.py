from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fieldcollect.earlywarning.tests.factories import AS_OF, make_customers, publish_store, synthetic_tables


@pytest.fixture
def book(fc_home):
    tables = synthetic_tables()
    publish_store(tables)
    return tables


@pytest.fixture
def nightly(book, db):
    """The early-warning step run once on the synthetic book (customers of the list in the database)."""
    from fieldcollect.earlywarning.services import early_warning_nightly

    make_customers(book, list(range(1, 601)))
    # the night after the business date: 23:00 in Shanghai
    return early_warning_nightly(as_of=AS_OF, now=datetime(2026, 6, 30, 15, 0, tzinfo=UTC))


@pytest.fixture
def bank_client(client, db):
    from fieldcollect.core.models import Role, User

    user = User.objects.create_user(username="risk", password="pw-123456789", role=Role.RISK_ANALYST)
    client.force_login(user)
    return client
