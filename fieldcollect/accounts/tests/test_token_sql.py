"""The API token check written out (accounts/tokens.py) finds the token, user, agency and allow-list the
ORM finds: valid, revoked, expired, other users' and agency-less tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from fieldcollect.accounts.models import ApiToken
from fieldcollect.accounts.tokens import (
    _auth_query,
    _digest,
    agency_networks_set,
    token_authenticate,
    token_create,
)
from fieldcollect.core.models import Role
from fieldcollect.core.rawsql import adapt
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def test_token_statement_matches_the_orm():
    agency = f.make_agency()
    agency_networks_set(agency_id=agency.pk, networks=["10.0.0.0/8"])
    manager = f.make_user(role=Role.AGENCY_MANAGER, agency=agency)
    banker = f.make_user(role=Role.COLLECTIONS_MANAGER)
    secrets = {}
    for label, user, change in (("valid", manager, None), ("bank", banker, None), ("revoked", manager, "revoked"),
                                ("expired", banker, "expired"), ("listed", manager, "listed")):
        token, secret = token_create(user=user, allowed_networks=["192.0.2.0/24"] if change == "listed" else ())
        if change == "revoked":
            ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
        if change == "expired":
            ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        secrets[label] = secret
    secrets["unknown"] = "fc_" + "x" * 40
    sql, (tokens, networks, users, agencies) = _auth_query()
    for now in (timezone.now(), timezone.localtime(timezone.now()), timezone.now() + timedelta(days=400)):
        for label, secret in secrets.items():
            with connection.cursor() as cursor:
                cursor.execute(sql, adapt([_digest(secret), now]))
                row = cursor.fetchone()
            orm = (ApiToken.objects.select_related("user", "user__agency")
                   .filter(digest=_digest(secret), revoked_at__isnull=True, expires_at__gt=now).first())
            assert (row is None) == (orm is None), (label, now)
            if orm is None:
                continue
            token = tokens.build(row)
            user = users.build(row, tokens.width + networks.width)
            assert (token.pk, token.prefix, token.allowed_networks) == (orm.pk, orm.prefix, orm.allowed_networks)
            assert (user.pk, user.role, user.agency_id, user.is_active) == (
                orm.user.pk, orm.user.role, orm.user.agency_id, orm.user.is_active)
            listed = list(networks.build(row, tokens.width).networks or [])
            assert listed == (["10.0.0.0/8"] if orm.user.agency_id == agency.pk else [])
            if orm.user.agency_id is not None:
                built = agencies.build(row, tokens.width + networks.width + users.width)
                assert (built.pk, built.name) == (orm.user.agency.pk, orm.user.agency.name)
    assert token_authenticate(secrets["valid"]) == manager and token_authenticate(secrets["revoked"]) is None
