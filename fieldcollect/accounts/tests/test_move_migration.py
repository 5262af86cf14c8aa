"""API tokens, agency network allow-lists, TOTP devices and failed log-ins left ``core`` for the accounts
app (issue 18) with their rows: a database migrated on the old layout upgrades with every row intact,
the TOTP secret still decrypts (bound to the table it was written in), the token still authenticates,
and the content types (with their permissions) move to the new app and back."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from fieldcollect.accounts.models import AgencyApiNetworks, ApiToken, LoginFailure, TotpDevice
from fieldcollect.accounts.tokens import token_authenticate
from fieldcollect.core.models import Role, User
from fieldcollect.testing import factories as f
from fieldcollect.testing.migrations import applied, latest, migrate

pytestmark = pytest.mark.django_db(transaction=True)

OLD = [("core", "0010_audit_log_moved_to_its_own_app")]  # core before the accounts' models left it
BEFORE_THE_APP = [*OLD, ("accounts", None)]  # the accounts app did not exist
MODELS = (ApiToken, AgencyApiNetworks, TotpDevice, LoginFailure)


def test_accounts_rows_survive_the_move_to_the_accounts_app() -> None:
    agency = f.make_agency()
    user = User.objects.create_user("mover", password="x", role=Role.AGENCY_MANAGER, agency=agency)
    ct_ids = {m: ContentType.objects.get_for_model(m).pk for m in MODELS}
    secret = "JBSWY3DPEHPK3PXP"
    try:
        executor = migrate(BEFORE_THE_APP)
        assert ("accounts", "0001_move_accounts_from_core") not in applied()
        old = executor.loader.project_state(OLD).apps
        for model in MODELS:
            assert old.get_model("core", model.__name__)._meta.db_table == model._meta.db_table
        token = old.get_model("core", "ApiToken").objects.create(
            user_id=user.pk, name="bank feed", prefix="fc_abc", digest=hashlib.sha256(b"fc_abc.secret").hexdigest(),
            expires_at=timezone.now() + timedelta(days=30), allowed_networks=["203.0.113.0/24"])
        device = old.get_model("core", "TotpDevice").objects.create(user_id=user.pk, secret=secret, last_step=7)
        networks = old.get_model("core", "AgencyApiNetworks").objects.create(agency_id=agency.pk,
                                                                             networks=["203.0.113.0/24"])
        failure = old.get_model("core", "LoginFailure").objects.create(username="mover", ip="203.0.113.9")
        for model, pk in ct_ids.items():
            ct = ContentType.objects.get(pk=pk)
            assert (ct.app_label, ct.model) == ("core", model._meta.model_name)  # migrating back moved it back

        migrate(latest())
        assert ApiToken.objects.get(pk=token.pk).allowed_networks == ["203.0.113.0/24"]
        stored = TotpDevice.objects.get(pk=device.pk)
        assert (stored.secret, stored.last_step, stored.user_id) == (secret, 7, user.pk)
        assert AgencyApiNetworks.objects.get(pk=networks.pk).networks == ["203.0.113.0/24"]
        assert LoginFailure.objects.get(pk=failure.pk).ip == "203.0.113.9"
        assert token_authenticate("fc_abc.secret", ip="203.0.113.9", check_ip=True) == user
        assert token_authenticate("fc_abc.secret", ip="198.51.100.1", check_ip=True) is None
        for model, pk in ct_ids.items():
            ct = ContentType.objects.get(pk=pk)
            assert (ct.app_label, ct.model) == ("accounts", model._meta.model_name)
    finally:
        migrate(latest())
