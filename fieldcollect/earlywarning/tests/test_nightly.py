"""The nightly step: champion trained on the book's own history, current loans scored, the list kept
with reasons naming real features, pre-due reminders planned and sent through the compliance check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from fieldcollect.analytics.features import FEATURES
from fieldcollect.earlywarning import engine
from fieldcollect.earlywarning.models import Reminder, WarningEntry, WarningList
from fieldcollect.earlywarning.services import early_warning_nightly, reminders_send_due
from fieldcollect.earlywarning.tests.factories import AS_OF
from fieldcollect.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db

LATENESS = {"late_count", "late_share", "late_over_7", "late_over_30", "max_days_late", "mean_days_late",
            "late_last3", "mean_days_late_last3", "late_trend", "days_since_late"}


def test_nightly_trains_champion_and_lists_loans_with_reasons(nightly):
    assert nightly["trained"] == "missing" and nightly["model_version"] == "v0001"
    champ = engine.registry().champion(engine.PURPOSE)
    assert champ.version == "v0001" and champ.manifest["trained_as_of"] == AS_OF.isoformat()
    assert champ.metrics["auc"] > 0.65  # lateness predicts default in this book (24 positives: a noisy estimate)
    # snapshots: every label window ends by the business date
    assert all(s["date"] <= "2026-03-30" for s in champ.manifest["snapshots"])

    wl = WarningList.objects.get()
    entries = list(wl.entries.order_by("rank"))
    assert wl.scored_loans == nightly["scored"] > len(entries) > 0
    probs = [e.probability for e in entries]
    assert probs == sorted(probs, reverse=True)
    for e in entries[:20]:
        assert e.reason_features and set(e.reason_features) <= set(FEATURES)
        assert e.reasons_en and e.reasons_zh and e.city
    # the riskiest loans are flagged for their lateness
    assert sum(bool(set(e.reason_features) & LATENESS) for e in entries[:10]) >= 8
    assert wl.summary["scores_file"] == ""  # no published run folder for this date: scores kept in the list only


def test_second_night_reuses_champion_and_stale_one_is_retrained(nightly):
    again = early_warning_nightly(as_of=AS_OF, now=datetime(2026, 6, 30, 15, tzinfo=UTC))
    assert again["trained"] == "" and again["model_version"] == "v0001"
    assert WarningList.objects.filter(as_of=AS_OF).count() == 1  # a re-run replaces the day's list
    later = AS_OF + timedelta(days=engine.MAX_AGE_DAYS + 1)
    third = early_warning_nightly(as_of=later, now=datetime(2026, 8, 5, 15, tzinfo=UTC))
    assert third["trained"] == "stale" and third["model_version"] == "v0002"
    assert engine.registry().champion_version(engine.PURPOSE) == "v0002"


def test_too_little_history_skips_quietly(fc_home, db):
    from fieldcollect.earlywarning.tests.factories import publish_store, synthetic_tables

    publish_store(synthetic_tables(n=40))
    out = early_warning_nightly(as_of=AS_OF)
    assert "skipped" in out and not WarningList.objects.exists()


def test_reminders_are_planned_before_the_due_date_and_sent_after_the_check(nightly):
    planned = Reminder.objects.all()
    assert planned.count() == nightly["reminders_planned"] > 0
    for r in planned:
        entry = WarningEntry.objects.get(pk=r.entry_id)
        assert entry.rank <= 50 and r.due_on == entry.next_due_on
        assert AS_OF < r.due_on <= AS_OF + timedelta(days=10)
        local = r.send_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
        assert local.hour == 10 and local.date() == max(r.due_on - timedelta(days=3), AS_OF + timedelta(days=1))

    first = planned.order_by("send_at").first()
    assert first is not None
    # at 23:30 local time the contact-hours rule defers the SMS to the next morning
    night = datetime.combine(first.send_at.date(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=15, minutes=30)
    Reminder.objects.exclude(pk=first.pk).update(send_at=night + timedelta(days=30))
    counts = reminders_send_due(now=night)
    first.refresh_from_db()
    if first.due_on > (night + timedelta(hours=8)).date():
        assert counts["deferred"] == 1 and first.status == Reminder.Status.PLANNED and first.rule_ids
        assert first.send_at > night
        from fieldcollect.compliance.models import BlockedAttempt

        assert BlockedAttempt.objects.get(path="ew_reminder").next_allowed_at == first.send_at
    # at 10:00 local it goes to the outbox
    morning = datetime.combine(first.due_on - timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)
    Reminder.objects.filter(pk=first.pk).update(send_at=morning, status=Reminder.Status.PLANNED)
    counts = reminders_send_due(now=morning)
    first.refresh_from_db()
    assert counts["queued"] == 1 and first.status == Reminder.Status.QUEUED
    msg = OutboxMessage.objects.get(pk=first.message_id)
    assert msg.kind == "early_warning_reminder" and first.due_on.isoformat() in msg.body
    assert msg.to == first.customer.mobile


def test_a_paused_debtor_gets_no_reminder(nightly):
    from fieldcollect.compliance.models import DebtorFlag

    reminder = Reminder.objects.order_by("send_at").first()
    assert reminder is not None
    morning = datetime.combine(reminder.due_on - timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)
    DebtorFlag.objects.create(customer=reminder.customer, flag="cease", starts_at=morning - timedelta(days=5),
                              reason="asked to stop")
    Reminder.objects.exclude(pk=reminder.pk).update(send_at=morning + timedelta(days=30))
    Reminder.objects.filter(pk=reminder.pk).update(send_at=morning)
    counts = reminders_send_due(now=morning)
    reminder.refresh_from_db()
    assert counts["blocked"] == 1 and reminder.status == Reminder.Status.BLOCKED
    assert reminder.rule_ids and reminder.message_id is None and reminder.explanation
    from fieldcollect.compliance.models import BlockedAttempt

    stored = BlockedAttempt.objects.get(customer_id=reminder.customer_id, path="ew_reminder")
    assert stored.channel == "sms" and stored.case_id is None and stored.rule_ids == reminder.rule_ids
    from fieldcollect.compliance.models import BlockedAttempt

    stored = BlockedAttempt.objects.get(path="ew_reminder")  # reported like any refused contact
    assert stored.customer_id == reminder.customer_id and stored.channel == "sms" and stored.user_id is None
    assert stored.rule_ids == reminder.rule_ids and stored.at == morning and stored.case_id is None


def test_run_daily_includes_the_step(book, db):
    from fieldcollect.daily.services import run_daily
    from fieldcollect.earlywarning.tests.factories import make_customers

    make_customers(book, list(range(1, 601)))
    result = run_daily(as_of=AS_OF, progress=False)
    ew = result.summary["early_warning"]
    assert ew["trained"] == "missing" and ew["scored"] > 0 and ew["listed"] > 0
    wl = WarningList.objects.get()
    assert wl.summary["scores_file"].endswith(engine.SCORES_FILE)
    scores = pl.read_parquet(wl.summary["scores_file"])  # every current loan's score is in the day's folder
    assert scores.height == wl.scored_loans and scores["rank"].min() == 1
    assert scores["loan_id"].is_in(pl.Series([e.loan_id for e in wl.entries.all()]).implode()).sum() == wl.entries.count()


def test_retraining_policy(nightly):
    reg = engine.registry()
    assert engine.needs_training(reg, as_of=AS_OF) is None
    assert engine.needs_training(reg, as_of=AS_OF, last_psi=0.3) is None  # too young to retrain for drift
    assert engine.needs_training(reg, as_of=AS_OF + timedelta(days=8), last_psi=0.3) == "drift"
    assert engine.needs_training(reg, as_of=AS_OF + timedelta(days=8), last_psi=0.05) is None
    assert engine.needs_training(reg, as_of=AS_OF + timedelta(days=36)) == "stale"
    import json

    manifest = reg.champion(engine.PURPOSE).path / "manifest.json"
    data = json.loads(manifest.read_text())
    data["feature_version"] = 1
    manifest.write_text(json.dumps(data))
    assert engine.needs_training(reg, as_of=AS_OF) == "features"


def test_a_reminder_on_or_after_its_due_date_expires(nightly):
    reminder = Reminder.objects.order_by("send_at").first()
    assert reminder is not None
    due_morning = datetime.combine(reminder.due_on, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)
    Reminder.objects.exclude(pk=reminder.pk).update(send_at=due_morning + timedelta(days=30))
    counts = reminders_send_due(now=due_morning)
    reminder.refresh_from_db()
    assert counts["expired"] == 1 and reminder.status == Reminder.Status.EXPIRED and reminder.message_id is None
