"""The Django admin is no back door: every registered model is read-only there (or its changes are
audited), and no page of it shows an encrypted value in clear, even to a superuser."""

from __future__ import annotations

import itertools
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import models
from django.test import Client
from django.utils import timezone

from fieldcollect.accounts.admin import FieldcollectUserAdmin
from fieldcollect.agencies.models import Collector
from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases.models import Case
from fieldcollect.core.models import Role, User
from fieldcollect.plans.models import ApproverGrant, AuthorityLevel
from fieldcollect.privacy.admin_base import AuditedAdmin, ReadOnlyAdmin
from fieldcollect.privacy.fields import EncryptedMixin, encrypted_fields
from fieldcollect.privacy.masking import mask_stored
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db

# edited in the admin, every change audited; everything else registered is read-only
AUDITED = {User: FieldcollectUserAdmin, AuthorityLevel: AuditedAdmin, ApproverGrant: AuditedAdmin,
           Collector: AuditedAdmin}
NOT_PERSONAL = {Group}  # Django's permission groups: no personal data (the app's rights come from roles)
_n = itertools.count(7_000_001)


def secret_for(model: type[models.Model], field: models.Field[Any, Any]) -> str:
    """A clear value that must never reach an admin page (phone-like for number fields)."""
    n = next(_n)
    if field.name in {"mobile", "phone", "contact_phone", "to", "number"}:
        return f"139{n:08d}"
    if field.name == "id_number":
        return f"11010519800101{n % 10_000:04d}"
    return f"机密{model.__name__}{field.name}{n}"


def build(model: type[models.Model], secrets: list[str], depth: int = 0) -> models.Model:
    """One row of ``model`` with every required field filled and every encrypted field holding a secret."""
    assert depth < 8, model
    if model is Case:
        return f.make_case()
    values: dict[str, Any] = {}
    # fields of a unique constraint (a statement's agency and month): a parent of its own, not the first row
    together = {name for c in model._meta.constraints if isinstance(c, models.UniqueConstraint) for name in c.fields}
    together |= {name for names in model._meta.unique_together for name in names}
    for field in model._meta.concrete_fields:
        if isinstance(field, EncryptedMixin):
            values[field.name] = secret_for(model, field)
            secrets.append(values[field.name])
            continue
        if isinstance(field, models.AutoField) or getattr(field, "auto_now", False) \
                or getattr(field, "auto_now_add", False) or field.has_default() or field.null:
            continue
        if field.is_relation:
            related = field.related_model
            assert isinstance(related, type)
            if related is User:
                values[field.name] = f.make_user(role=Role.COLLECTIONS_MANAGER)
            elif related is Case and not field.one_to_one:
                values[field.name] = f.make_case()
            elif related is Collector:  # a team is two different people
                values[field.name] = f.make_collector(agency=f.make_agency())
            elif field.one_to_one or field.unique or field.name in together or not related._default_manager.exists():
                values[field.name] = build(related, secrets, depth + 1)
            else:
                values[field.name] = related._default_manager.first()
        elif field.choices:
            values[field.name] = field.choices[0][0]
        elif isinstance(field, models.BooleanField):
            values[field.name] = False
        elif isinstance(field, (models.IntegerField, models.FloatField)):
            values[field.name] = next(_n) if field.primary_key or field.unique else 1
        elif isinstance(field, models.DecimalField):
            values[field.name] = Decimal("0.1")
        elif isinstance(field, models.DateTimeField):
            values[field.name] = timezone.now()
        elif isinstance(field, models.DateField):
            values[field.name] = date.today()
        elif isinstance(field, models.TimeField):
            values[field.name] = time(9)
        elif isinstance(field, models.DurationField):
            values[field.name] = timedelta(minutes=1)
        elif isinstance(field, models.JSONField):
            values[field.name] = {}
        elif isinstance(field, models.BinaryField):
            values[field.name] = b"%PDF"
        elif isinstance(field, models.CharField | models.TextField):
            values[field.name] = f"v{next(_n)}"[: field.max_length or 20]
        else:
            raise AssertionError(f"no value for {model.__name__}.{field.name} ({type(field).__name__})")
    return model._default_manager.create(**values)


def registered() -> list[tuple[type[models.Model], admin.ModelAdmin]]:  # type: ignore[type-arg]
    return sorted(admin.site._registry.items(), key=lambda kv: kv[0]._meta.label)


def superuser_client() -> Client:
    boss = f.make_user(role=Role.COLLECTIONS_MANAGER, username="root")
    boss.is_staff = boss.is_superuser = True
    boss.save()
    client = logged_in(boss)
    return client


def test_no_add_change_or_delete_for_personal_or_compliance_records():
    request = type("R", (), {"user": User(is_superuser=True, is_staff=True, is_active=True)})()
    for model, model_admin in registered():
        if model in NOT_PERSONAL:
            continue
        if model in AUDITED:
            assert isinstance(model_admin, AUDITED[model]), model
            continue
        assert isinstance(model_admin, ReadOnlyAdmin), f"{model._meta.label} is editable in the admin"
        assert not model_admin.has_add_permission(request), model
        assert not model_admin.has_change_permission(request), model
        assert not model_admin.has_delete_permission(request), model
        for inline in model_admin.get_inline_instances(request):  # type: ignore[arg-type]
            assert not inline.has_add_permission(request, None), inline
            assert not inline.has_change_permission(request), inline
            assert not inline.has_delete_permission(request), inline


def test_no_clear_personal_value_on_any_admin_page():
    client = superuser_client()
    secrets: list[str] = []
    rows: dict[type[models.Model], models.Model] = {}
    for model, _ in registered():
        if model not in NOT_PERSONAL:
            rows[model] = build(model, secrets)
    # rows the inlines show (route stops, evidence) hang off the rows above
    for model, model_admin in registered():
        for inline in model_admin.inlines:
            fk = next(fld for fld in inline.model._meta.concrete_fields
                      if fld.is_relation and fld.related_model is model)
            extra: list[str] = []
            child = build(inline.model, extra)
            setattr(child, fk.name, rows[model])
            child.save()
            secrets.extend(extra)
    assert len(secrets) >= 20  # every encrypted column of every registered model, and more
    checked = 0
    for model, row in rows.items():
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for url in (base, f"{base}{row.pk}/change/"):
            page = client.get(url)
            assert page.status_code == 200, (url, page.status_code)
            html = page.content.decode()
            leaked = [s for s in secrets if s in html]
            assert not leaked, f"{url} shows {leaked}"
            checked += 1
        if encrypted_fields(model):  # shown, masked
            assert "****" in client.get(f"{base}{row.pk}/change/").content.decode(), model
    assert checked == 2 * len(rows)


def test_hard_negative_audited_collector_login_link():
    client = superuser_client()
    agency = f.make_agency()
    collector = f.make_collector(agency=agency)
    login = f.make_user(role=Role.FIELD_COLLECTOR, agency=collector.agency, username="field-1")
    url = f"/admin/agencies/collector/{collector.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert set(form.fields) == {"user", "active"}
    r = client.post(url, {"user": login.pk, "active": "on"})
    assert r.status_code == 302, r.content.decode()[:2000]
    collector.refresh_from_db()
    assert collector.user_id == login.pk
    entry = AuditEntry.objects.get(action="agencies.collector.change", object_id=str(collector.pk))
    assert entry.old["user"] is None and entry.new["user"] == login.pk


def test_masked_display_values():
    assert mask_stored("contact_phone", "13912345678") == "139****5678"
    assert mask_stored("number", "上海市浦东新区世纪大道8号") == "**** (13)"
    assert mask_stored("description", "他说会在下周还款") == "**** (8)"
    assert mask_stored("id_number", "110105194912310021") == "110105********0021"
    assert mask_stored("notes", "") == ""
