"""``effective_from`` honoured: the pack version in force on the contact's own date decides (a date on
each side of a change), for the pre-contact check, for contacts reported after the fact and for the
daily report."""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fieldcollect.compliance import selectors
from fieldcollect.compliance.packs import PACKS_DIR, PackError, pack_in_force, pack_versions, parse_pack
from fieldcollect.compliance.services import ReportedContact, contact_decision, reported_contacts_breaches

SH = ZoneInfo("Asia/Shanghai")
CN = tomllib.loads((PACKS_DIR / "cn.toml").read_text(encoding="utf-8"))


def older_cn(effective: date, end: str = "21:00", version: str = "2025.1") -> str:
    text = (PACKS_DIR / "cn.toml").read_text(encoding="utf-8")
    return (
        text.replace(f'version = "{CN["pack"]["version"]}"', f'version = "{version}"', 1)
        .replace(f"effective_from = {CN['pack']['effective_from']}", f"effective_from = {effective}", 1)
        .replace('end = "22:00"', f'end = "{end}"', 1)
    )


def test_versions_are_read_from_history_and_chosen_by_date(tmp_path: Path):
    shutil.copy(PACKS_DIR / "cn.toml", tmp_path / "cn.toml")
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "cn-2025.1.toml").write_text(older_cn(date(2025, 1, 1)), encoding="utf-8")
    versions = pack_versions("cn", packs_dir=tmp_path)
    assert [v.version for v in versions] == ["2025.1", CN["pack"]["version"]]
    new_from = CN["pack"]["effective_from"]
    assert pack_in_force(versions, on=new_from - timedelta(days=1)).version == "2025.1"
    assert pack_in_force(versions, on=new_from).version == CN["pack"]["version"]
    assert pack_in_force(versions, on=date(2024, 6, 1)).version == "2025.1"  # before all: the oldest
    assert pack_in_force(versions, on=new_from - timedelta(days=1)).rule("CN-HOURS").end == time(21, 0)


def test_two_versions_on_one_date_are_refused(tmp_path: Path):
    shutil.copy(PACKS_DIR / "cn.toml", tmp_path / "cn.toml")
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "cn-x.toml").write_text(
        older_cn(CN["pack"]["effective_from"], version="x"), encoding="utf-8"
    )
    with pytest.raises(PackError, match="same effective date"):
        pack_versions("CN", packs_dir=tmp_path)


def test_shipped_packs_have_one_version_in_force_today():
    for code in ("CN", "US", "IN"):
        assert pack_versions(code)[-1].code == code


@pytest.fixture
def two_versions(monkeypatch):
    """CN as shipped from ten days ago; before that an older version whose hours end at 21:00."""
    change = datetime.now(SH).date() - timedelta(days=10)
    new = replace(parse_pack(data=CN), effective_from=change)
    old = parse_pack(data=tomllib.loads(older_cn(change - timedelta(days=400))))
    monkeypatch.setattr(selectors, "versions_of", lambda jurisdiction: (old, new))
    return change


@pytest.mark.django_db
def test_the_version_in_force_on_the_contacts_date_decides(two_versions):
    from fieldcollect.testing import factories as f

    case = f.make_case()
    before = datetime.combine(two_versions - timedelta(days=1), time(21, 30), tzinfo=SH)
    after = datetime.combine(two_versions, time(21, 30), tzinfo=SH)
    blocked = contact_decision(case=case, channel="phone", at=before)
    assert not blocked.allowed and blocked.rule_ids == ["CN-HOURS"] and blocked.decision.pack == "CN@2025.1"
    allowed = contact_decision(case=case, channel="phone", at=after)
    assert allowed.allowed and allowed.decision.pack == f"CN@{CN['pack']['version']}"
    # reported after the fact: judged by the same version as on its day
    found = reported_contacts_breaches(
        [
            ReportedContact(key=key, customer_id=case.customer_id, tz="Asia/Shanghai", jurisdiction="CN",
                            channel="phone", party="debtor", at=at)
            for key, at in ((1, before), (2, after + timedelta(days=1)))
        ]
    )
    assert found == {1: ("CN-HOURS",)}


@pytest.mark.django_db
def test_the_daily_report_replays_a_day_under_its_version(two_versions):
    from fieldcollect.cases.models import ContactAttempt
    from fieldcollect.testing import factories as f

    case = f.make_case()
    for day in (two_versions - timedelta(days=1), two_versions):
        ContactAttempt.objects.create(
            case=case,
            channel="phone",
            party="debtor",
            outcome="no_answer",
            at=datetime.combine(day, time(21, 30), tzinfo=SH),
        )
    old_day = selectors.daily_report(day=two_versions - timedelta(days=1))
    new_day = selectors.daily_report(day=two_versions)
    assert [d.breaches_by_rule for d in old_day.days] == [{"CN-HOURS": 1}]
    assert [d.breaches_by_rule for d in new_day.days] == [{}]


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_rule_packs_page_read_only(client, two_versions, lang):
    from django.conf import settings
    from django.utils.html import escape

    from fieldcollect.core.models import Role
    from fieldcollect.testing import factories as f

    client.force_login(f.make_user(role=Role.AGENCY_MANAGER, agency=f.make_agency()))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    resp = client.get("/compliance/packs/")
    text = resp.content.decode()
    assert (
        resp.status_code == 200 and "CN-HOURS" in text and "2025.1" in text and CN["pack"]["version"] in text
    )
    expl = parse_pack(data=CN).rule("CN-HOURS").explain("zh-Hans" if lang.startswith("zh") else "en")
    assert escape(expl) in text
    assert "superseded" in text or "已被取代" in text  # the older version, marked
    assert client.post("/compliance/packs/").status_code == 405  # read-only
