"""Early warning in the nightly cycle: (re)train when needed, score the current loans, keep the list,
plan and send pre-due reminders.

:func:`early_warning_nightly` is the one call the nightly cycle makes (``daily.services.run_daily``),
after the day's cases are synced and outside their transaction (training can take a while):

1. the champion of purpose ``early_warning`` is trained when missing, older than
   ``EARLY_WARNING_MAX_AGE_DAYS`` (35) or when the last list's score PSI was significant (≥ 0.25);
   too little history (under 5 months, or fewer than 20 loans ever reaching 30+ dpd) skips the step;
2. every current loan is scored; all scores go to ``early_warning.parquet`` in the day's run folder,
   the top ``EARLY_WARNING_TOP_N`` (200) with reasons into :class:`WarningList`/:class:`WarningEntry`;
3. loans ranked within ``EARLY_WARNING_REMINDER_TOP`` (50) whose next instalment falls due within
   ``REMINDER_WINDOW_DAYS`` get a :class:`Reminder`, to be sent ``REMINDER_LEAD_DAYS`` (3) days before
   the due date at 10:00 in the customer's time zone;
4. reminders whose time has come are sent (:func:`reminders_send_due`): the compliance engine checks
   an SMS to the debtor at that instant (contact hours, caps, pauses from the debtor's flags, on the
   shared contact ledger); allowed ones go to the outbox, others wait for ``next_allowed_at`` if it
   is before the due date, else are marked blocked with the rules' explanation. Every refusal is also
   stored as a compliance ``BlockedAttempt`` (path ``ew_reminder``, no case, the system as actor).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Collector
from fieldcollect.analytics.features import store_features
from fieldcollect.audit.services import audit_log
from fieldcollect.cases.models import Case, ContactAttempt
from fieldcollect.compliance.engine import ContactRequest, Flag, LedgerEntry, check, zone
from fieldcollect.compliance.models import DebtorFlag
from fieldcollect.compliance.packs import PAUSE_FLAGS, load_pack
from fieldcollect.compliance.services import blocked_attempt_store
from fieldcollect.core.bank_time import bank_time_zone_name
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import User
from fieldcollect.daily.cycle import published_path
from fieldcollect.earlywarning import engine
from fieldcollect.earlywarning.errors import EarlyWarningErrorCode
from fieldcollect.earlywarning.models import (
    Reminder,
    StrategyAssignment,
    StrategyRun,
    WarningEntry,
    WarningList,
)
from fieldcollect.earlywarning.strategy_engine import (
    BUCKET_INDEX,
    CONTACT_WEIGHTS,
    PropensityModel,
    build_problem,
)
from fieldcollect.ingest.store import require_current
from fieldcollect.outbox.services import outbox_enqueue
from fieldcollect.portfolio.models import Customer, Loan
from fieldcollect.scoring.registry import RegistryError

logger = logging.getLogger(__name__)

REMINDER_LEAD_DAYS = 3
REMINDER_WINDOW_DAYS = 10
REMINDER_HOUR = 10
REMINDER_KIND = "early_warning_reminder"


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _last_psi(as_of: date) -> float | None:
    last = WarningList.objects.filter(as_of__lt=as_of).order_by("-as_of", "-id").first()
    return last.score_psi if last is not None else None


def early_warning_nightly(*, as_of: date, actor: User | None = None, top_n: int | None = None,
                         progress: bool = False, now: datetime | None = None) -> dict[str, Any]:
    """The nightly early-warning step for business date ``as_of`` (see the module docstring); reminders
    due by ``now`` (default: the current time) are sent.

    The day's cases are already published when this runs: an unexpected failure here is logged and
    reported in the result (``error``) instead of failing the whole nightly run.
    """
    try:
        return _early_warning_nightly(as_of=as_of, actor=actor, top_n=top_n, progress=progress, now=now)
    except Exception as exc:
        logger.exception("early-warning step failed for %s", as_of)
        return {"error": f"{type(exc).__name__}: {exc}"}


def _early_warning_nightly(*, as_of: date, actor: User | None, top_n: int | None, progress: bool,
                           now: datetime | None) -> dict[str, Any]:
    started = time.perf_counter()
    version = require_current()
    reg = engine.registry()
    why = engine.needs_training(reg, as_of=as_of, max_age_days=_setting("EARLY_WARNING_MAX_AGE_DAYS",
                                                                         engine.MAX_AGE_DAYS),
                                last_psi=_last_psi(as_of))
    out: dict[str, Any] = {"trained": ""}
    if why is not None:
        try:
            train_t = time.perf_counter()
            artefact = engine.train_model(version, as_of=as_of, reg=reg, progress=_progress_printer(progress))
            out |= {"trained": why, "trained_version": artefact.version, "train_s": round(time.perf_counter() - train_t, 2)}
            audit_log(actor=actor, action="earlywarning.train", object_type="Model",
                      object_id=f"{engine.PURPOSE}/{artefact.version}",
                      new={"reason": why, "auc": artefact.metrics.get("auc"), "rows": artefact.manifest.get("rows")})
        except engine.NotEnoughHistory as exc:
            if why == "missing":
                return {"skipped": str(exc)}
            out["train_skipped"] = str(exc)
    try:
        model, artefact = reg.load(engine.PURPOSE)
    except RegistryError as exc:
        return {"skipped": str(exc)}
    run_dir = published_path(as_of)
    result = engine.score_current(version, as_of=as_of, model=model, artefact=artefact,
                                  top_n=top_n or _setting("EARLY_WARNING_TOP_N", 200),
                                  scores_dir=run_dir.resolve() if run_dir.exists() else None)
    with transaction.atomic():
        wl = save_list(result=result, as_of=as_of, store_version=version.name, trained=out["trained"], actor=actor)
        planned = reminders_plan(warning_list=wl, as_of=as_of)
    sent = reminders_send_due(now=now or timezone.now())
    out |= {"list_id": wl.pk, "model_version": artefact.version, "scored": result.n_scored,
            "listed": wl.entries.count(), "score_psi": result.stability.get("score_psi"),
            "reminders_planned": planned, **{f"reminders_{k}": v for k, v in sent.items()},
            "timings": result.timings, "seconds": round(time.perf_counter() - started, 2)}
    WarningList.objects.filter(pk=wl.pk).update(summary=wl.summary | {"nightly": out})
    return out


def _progress_printer(enabled: bool) -> Any:
    if not enabled:
        return None

    def report(message: str, done: int, total: int) -> None:
        print(f"early warning: {message} ({done}/{total})", flush=True)

    return report


def save_list(*, result: engine.ScoreResult, as_of: date, store_version: str, trained: str,
              actor: User | None) -> WarningList:
    """Replace the list of ``as_of`` (a re-run of a date) with ``result``. Call inside a transaction."""
    old = list(WarningList.objects.filter(as_of=as_of).values_list("pk", flat=True))
    if old:
        Reminder.objects.filter(entry__warning_list_id__in=old).update(entry=None)
        WarningList.objects.filter(pk__in=old).delete()
    wl = WarningList.objects.create(
        as_of=as_of, purpose=engine.PURPOSE, model_version=result.model_version, store_version=store_version,
        scored_loans=result.n_scored, mean_probability=result.mean_probability,
        score_psi=result.stability.get("score_psi"), trained=trained,
        summary={"histogram": result.histogram, "stability": result.stability, "timings": result.timings,
                 "scores_file": str(result.scores_path) if result.scores_path else ""})
    rows = result.top.to_dicts() if result.top.height else []
    WarningEntry.objects.bulk_create([
        WarningEntry(warning_list=wl, rank=r["rank"], loan_id=r["loan_id"], customer_id=r.get("customer_id"),
                     city=r.get("city") or "", product=r.get("product") or "", bucket="M0",
                     probability=float(r["probability"]), reasons_en=(r.get("reasons_en") or "")[:500],
                     reasons_zh=(r.get("reasons_zh") or "")[:500], reason_features=list(r.get("reason_features") or []),
                     next_due_on=r.get("next_due_on"), next_due_fen=int(r.get("next_due_fen") or 0),
                     outstanding_principal_fen=int(r.get("outstanding_principal_fen") or 0))
        for r in rows
    ], batch_size=1000)
    audit_log(actor=actor, action="earlywarning.list", object_type="WarningList", object_id=wl.pk,
              new={"as_of": as_of.isoformat(), "model": result.model_version, "scored": result.n_scored,
                   "listed": len(rows)})
    return wl


# ------------------------------------------------------------------------------------- reminders
def _local_send_at(day: date, tzname: str) -> datetime:
    return datetime.combine(day, dtime(REMINDER_HOUR), tzinfo=zone(tzname or bank_time_zone_name())).astimezone(UTC)


def reminders_plan(*, warning_list: WarningList, as_of: date) -> int:
    """Plan a reminder for each top entry whose next instalment is due within the window (once per due date)."""
    top = _setting("EARLY_WARNING_REMINDER_TOP", 50)
    entries = list(warning_list.entries.filter(rank__lte=top, next_due_on__gt=as_of,
                                               next_due_on__lte=as_of + timedelta(days=REMINDER_WINDOW_DAYS),
                                               customer_id__isnull=False))
    if not entries:
        return 0
    customers = Customer.objects.in_bulk([e.customer_id for e in entries])
    existing = set(Reminder.objects.filter(loan_id__in=[e.loan_id for e in entries])
                   .values_list("loan_id", "due_on"))
    new = []
    for e in entries:
        customer = customers.get(e.customer_id)
        if customer is None or e.next_due_on is None or (e.loan_id, e.next_due_on) in existing:
            continue
        send_on = max(e.next_due_on - timedelta(days=REMINDER_LEAD_DAYS), as_of + timedelta(days=1))
        new.append(Reminder(loan_id=e.loan_id, customer=customer, entry=e, due_on=e.next_due_on,
                            amount_fen=e.next_due_fen, probability=e.probability,
                            send_at=_local_send_at(send_on, customer.timezone)))
    Reminder.objects.bulk_create(new)
    if new:
        audit_log(actor=None, action="earlywarning.reminders_plan", object_type="WarningList",
                  object_id=warning_list.pk, new={"planned": len(new)})
    return len(new)


def _flags(customer_id: int) -> list[Any]:
    return [Flag(debtor_id=str(customer_id), flag=f.flag, start=f.starts_at, end=f.ends_at, phone=f.phone or None)
            for f in DebtorFlag.objects.filter(customer_id=customer_id)]


def _ledger(customer_id: int) -> list[Any]:
    channels = {"phone": "call", "sms": "sms", "visit": "visit", "letter": "letter", "email": "email", "wechat": "sms"}
    return [LedgerEntry(debtor_id=str(customer_id), channel=channels.get(r.channel, "call"),
                        party="debtor" if r.party == "debtor" else "third_party", at=r.at, phone=r.number or None,
                        connected=r.connected or r.conversation, conversation=r.conversation,
                        agency_id=str(r.agency_id) if r.agency_id else None)
            for r in ContactAttempt.objects.filter(case__customer_id=customer_id)]


def _pack(customer_id: int) -> Any:
    jurisdiction = Loan.objects.filter(customer_id=customer_id).values_list("jurisdiction", flat=True).first()
    return load_pack(jurisdiction or "CN")


def reminder_body(reminder: Reminder) -> str:
    with translation.override("zh-hans"):
        return _("Friendly reminder from your bank: %(amount)s CNY of your loan falls due on %(date)s. "
                 "Please make sure your account can cover it.") % {
            "amount": f"{reminder.amount_fen / 100:,.2f}", "date": reminder.due_on.isoformat()}


def reminders_send_due(*, now: datetime | None = None) -> dict[str, int]:
    """Send the planned reminders whose time has come, each after the compliance check."""
    now = now or timezone.now()
    counts = {"queued": 0, "blocked": 0, "deferred": 0, "expired": 0}
    due = list(Reminder.objects.select_related("customer").filter(status=Reminder.Status.PLANNED, send_at__lte=now))
    for reminder in due:
        customer = reminder.customer
        tzname = customer.timezone or bank_time_zone_name()
        with transaction.atomic():
            locked = Reminder.objects.select_for_update().get(pk=reminder.pk)
            if locked.status != Reminder.Status.PLANNED:
                continue
            if now.astimezone(zone(tzname)).date() >= locked.due_on:
                locked.status = Reminder.Status.EXPIRED
                locked.decided_at = now
                locked.save(update_fields=["status", "decided_at"])
                counts["expired"] += 1
                continue
            request = ContactRequest(request_id=f"ew-reminder-{locked.pk}", debtor_id=str(customer.customer_id),
                                     tz=tzname, channel="sms", party="debtor", at=now, phone=customer.mobile or None)
            decision = check(request=request, ledger=_ledger(customer.customer_id),
                             flags=_flags(customer.customer_id), pack=_pack(customer.customer_id))
            locked.decided_at = now
            if decision.allowed:
                locked.message = outbox_enqueue(to=customer.mobile, body=reminder_body(locked), kind=REMINDER_KIND)
                locked.status = Reminder.Status.QUEUED
                counts["queued"] += 1
                action = "earlywarning.reminder_queued"
            else:
                # the refused SMS is a blocked attempt like any refused contact (daily compliance report)
                blocked_attempt_store(decision=decision, customer_id=customer.pk, case=None, acting_user=None,
                                      channel="sms", party="debtor", number=customer.mobile or "", at=now,
                                      path="ew_reminder", once=True)  # deferred reminders are re-checked
                locked.rule_ids = list(decision.rule_ids)
                locked.explanation = " ".join(decision.explain("en"))[:2000]
                nxt = decision.next_allowed_at
                if nxt is not None and nxt.date() < locked.due_on:
                    locked.send_at = nxt
                    counts["deferred"] += 1
                    action = "earlywarning.reminder_deferred"
                else:
                    locked.status = Reminder.Status.BLOCKED
                    counts["blocked"] += 1
                    action = "earlywarning.reminder_blocked"
            locked.save()
            audit_log(actor=None, action=action, object_type="Reminder", object_id=locked.pk,
                      new={"loan_id": locked.loan_id, "due_on": locked.due_on.isoformat(), "rules": locked.rule_ids})
    return counts


def train_now(*, as_of: date, actor: User | None, progress: bool = False, kind: str = "gbm") -> dict[str, Any]:
    """Train and register a new champion now (CLI ``fieldcollect early-warning train``)."""
    artefact = engine.train_model(require_current(), as_of=as_of, kind=kind, progress=_progress_printer(progress))
    audit_log(actor=actor, action="earlywarning.train", object_type="Model",
              object_id=f"{engine.PURPOSE}/{artefact.version}", new={"reason": "manual", "auc": artefact.metrics.get("auc")})
    return {"version": artefact.version, "kind": artefact.kind, "auc": artefact.metrics.get("auc"),
            "rows": artefact.manifest.get("rows"), "positives": artefact.manifest.get("positives"),
            "timings": artefact.manifest.get("timings")}


# ------------------------------------------------------------------------------------- strategy
def _strategy_cases(*, as_of: date) -> Any:
    """Observable features of the open cases (see :mod:`fieldcollect.earlywarning.strategy_engine`)."""
    import polars as pl

    rows = list(Case.objects.filter(closed_on__isnull=True, overdue_fen__gt=0)
                .values_list("id", "loan_id", "customer_id", "city", "bucket", "overdue_fen"))
    schema = {"case_id": pl.Int64, "loan_id": pl.Int64, "customer_id": pl.Int64, "city": pl.String,
              "bucket_name": pl.String, "amount_fen": pl.Int64}
    cases = pl.DataFrame(rows, schema=schema, orient="row")
    if cases.height == 0:
        return cases
    ids = cases["loan_id"].implode()
    feats = pl.concat([f.select("loan_id", "late_share", "tenure_days") for f in
                       store_features(require_current(), as_of=as_of, loan_filter=pl.col("loan_id").is_in(ids))])
    now = timezone.now()
    weights: dict[int, float] = {}
    for customer_id, channel in ContactAttempt.objects.filter(
            case__customer_id__in=cases["customer_id"].to_list(), at__gte=now - timedelta(days=30),
            at__lte=now).values_list("case__customer_id", "channel"):
        weights[customer_id] = weights.get(customer_id, 0.0) + CONTACT_WEIGHTS.get(channel, 1.0)
    active = DebtorFlag.objects.filter(customer_id__in=cases["customer_id"].to_list(), starts_at__lte=now).exclude(
        ends_at__lte=now).values_list("customer_id", "flag")
    paused = {c for c, f in active if f in PAUSE_FLAGS}
    no_number = {c for c, f in active if f == "no_valid_number"}
    return (cases.join(feats, on="loan_id", how="left")
            .with_columns(bucket=pl.col("bucket_name").replace_strict(BUCKET_INDEX, default=1, return_dtype=pl.Int64),
                          on_time_ratio=(1.0 - pl.col("late_share")).fill_null(1.0),
                          tenure_months=(pl.col("tenure_days") / 30.44).fill_null(0.0),
                          contact_intensity=pl.col("customer_id").replace_strict(weights, default=0.0,
                                                                                return_dtype=pl.Float64),
                          do_not_call=pl.col("customer_id").is_in(list(no_number)),
                          paused=pl.col("customer_id").is_in(list(paused)))
            .sort("case_id"))


def strategy_run(*, as_of: date, actor: User | None, visits_per_city: int = 5, calls: int = 200,
                 restructures: int = 20, legal: int = 5, seed: int = 0) -> Any:
    """Choose one treatment per open case under the day's channel capacities and keep the result.

    Field visits are possible only in cities with active field collectors (``visits_per_city`` each).
    """
    import numpy as np

    from fieldcollect.optimisation.strategy import solve

    started = time.perf_counter()
    cases = _strategy_cases(as_of=as_of)
    if cases.height == 0:
        raise ApplicationError(_("There is no open case with an overdue amount."), code=EarlyWarningErrorCode.STRATEGY_NO_CASES)
    model = PropensityModel.fit_on_simulated_history(seed=seed)
    cities = set(Collector.objects.filter(active=True).values_list("city", flat=True))
    visit_cities = {c: visits_per_city for c in sorted(cities) if c}
    problem = build_problem(cases, model=model, visit_cities=visit_cities, calls=calls, restructures=restructures,
                            legal=legal)
    result = solve(problem)
    assert not problem.check(result.choice), problem.check(result.choice)
    expl = result.explanations()
    rows = np.arange(problem.n_cases)
    chosen_p = problem.propensity[rows, result.choice]
    usage = [{"treatment": r["treatment"], "city": r["city"] or "", "used": int(r["used"]), "limit": int(r["limit"]),
              "shadow_price_fen": int(r["shadow_price_fen"])} for r in result.usage().iter_rows(named=True)]
    names = list(problem.treatments)
    mix = {t: int(n) for t, n in zip(names, np.bincount(result.choice, minlength=len(names)), strict=True)}
    summary = {"mix": mix, "usage": usage, "capacities": {"visits_per_city": visits_per_city, "visit_cities":
                                                          sorted(visit_cities), "calls": calls,
                                                          "restructures": restructures, "legal": legal},
               "propensity": model.source, "solver": {"method": result.method, "seconds": round(result.seconds, 3)},
               "seconds": round(time.perf_counter() - started, 2)}
    with transaction.atomic():
        run = StrategyRun.objects.create(as_of=as_of, created_by=actor, cases=problem.n_cases,
                                         expected_value_fen=result.expected_value_fen(),
                                         expected_uplift_fen=result.expected_uplift_fen(),
                                         expected_complaints=result.expected_complaints(), summary=summary)
        StrategyAssignment.objects.bulk_create([
            StrategyAssignment(run=run, case_id=c["case_id"], loan_id=c["loan_id"], city=c["city"] or "",
                               bucket=c["bucket_name"], amount_fen=c["amount_fen"], treatment=e["treatment"],
                               probability=float(p), value_fen=int(e["value_fen"]), alternative=e["alternative"],
                               reason=e["reason"], text_en=e["text_en"][:300], text_zh=e["text_zh"][:300])
            for c, e, p in zip(cases.iter_rows(named=True), expl.iter_rows(named=True), chosen_p, strict=True)
        ], batch_size=2000)
        audit_log(actor=actor, action="earlywarning.strategy_run", object_type="StrategyRun", object_id=run.pk,
                  new={"as_of": as_of.isoformat(), "cases": problem.n_cases, "mix": mix})
    return run
