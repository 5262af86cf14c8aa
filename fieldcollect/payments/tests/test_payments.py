"""Same-day payments: the signed API, the file command, idempotency, refused lines and the effects at
once (promise kept, plan instalment paid, visits cancelled and route plans changed, commission)."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from typer.testing import CliRunner

from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases.models import Payment, Placement, PromiseToPay
from fieldcollect.cases.services import promise_record
from fieldcollect.cli import app as cli_app
from fieldcollect.core.models import Role
from fieldcollect.payments import channels
from fieldcollect.payments.models import PaymentEvent
from fieldcollect.payments.services import payments_post
from fieldcollect.plans.models import PlanInstalment
from fieldcollect.plans.tests.test_services_plans import _to_offered
from fieldcollect.privacy.tests.test_isolation import make
from fieldcollect.testing import factories as f
from fieldcollect.visits.models import Appointment, RoutePlan, RouteStop

pytestmark = pytest.mark.django_db


def now_iso(delta: timedelta = timedelta()) -> str:
    return (timezone.now() - timedelta(minutes=1) + delta).astimezone(UTC).isoformat()


def line(loan_id: int, ref: str, amount: int = 10_000, channel: str = "unionpay", **kw) -> dict:
    return {
        "reference": ref,
        "loan_id": loan_id,
        "amount_fen": amount,
        "paid_at": now_iso(),
        "channel": channel,
    } | kw


def signed(
    client: Client,
    body: bytes,
    *,
    channel: str = "unionpay",
    secret: str,
    ts: int | None = None,
    signature: str | None = None,
):
    ts = int(time.time()) if ts is None else ts
    sig = channels.sign(secret=secret, timestamp=ts, body=body) if signature is None else signature
    return client.post(
        "/api/v1/payments",
        body,
        content_type="application/json",
        HTTP_X_FC_CHANNEL=channel,
        HTTP_X_FC_TIMESTAMP=str(ts),
        HTTP_X_FC_SIGNATURE=sig,
    )


# ------------------------------------------------------------------ signature and idempotency


def test_signed_request_applies_and_every_bad_signature_is_refused():
    secret = channels.channel_add(name="unionpay")
    other = channels.channel_add(name="alipay")
    case = f.make_case()
    client = Client()
    body = json.dumps({"payments": [line(case.loan_id, "U-1")]}).encode()
    before = Payment.objects.count()
    for bad in (
        signed(client, body, secret=secret, signature="0" * 64),  # wrong signature
        signed(client, body, secret=other),  # another channel's secret
        signed(client, body, secret=secret, ts=int(time.time()) - 3600),  # too old: no replay later
        signed(client, body, secret=secret, channel="nosuch"),  # unknown channel
        client.post("/api/v1/payments", body, content_type="application/json"),  # not signed
    ):
        assert bad.status_code == 401, bad.content
        assert bad.json()["error"]["code"].startswith("payment.signature")
    assert Payment.objects.count() == before
    # a body changed after signing
    ts = int(time.time())
    sig = channels.sign(secret=secret, timestamp=ts, body=body)
    tampered = body.replace(b"10000", b"99999")
    assert signed(client, tampered, secret=secret, ts=ts, signature=sig).status_code == 401

    ok = signed(client, body, secret=secret)
    assert ok.status_code == 200, ok.content
    assert ok.json() == {"applied": 1, "duplicates": 0, "rejected": []}
    again = signed(client, body, secret=secret)  # a retry of the channel
    assert again.json() == {"applied": 0, "duplicates": 1, "rejected": []}
    assert Payment.objects.filter(reference="unionpay:U-1").count() == 1
    # a line naming another channel than the signing one is refused
    body2 = json.dumps(line(case.loan_id, "A-1", channel="alipay")).encode()
    resp = signed(client, body2, secret=secret)
    assert resp.json()["rejected"][0]["reason"].startswith("channel 'alipay' is not the channel")


def test_the_secret_is_in_the_keys_folder_not_in_the_database(fc_home):
    secret = channels.channel_add(name="corebank")
    assert len(secret) == 64
    stored = json.loads((fc_home / "keys" / channels.SECRETS_FILE).read_text())
    assert stored == {"corebank": secret}
    assert (fc_home / "keys" / channels.SECRETS_FILE).stat().st_mode & 0o077 == 0
    assert channels.channel_add(name="corebank") == secret  # set-up again keeps it
    assert channels.channel_add(name="corebank", rotate=True) != secret
    with pytest.raises(Exception, match="store"):  # the message names the reserved name, in either language
        channels.channel_add(name="store")


def test_same_file_posted_twice_applies_once_and_bad_lines_are_refused_with_their_reason(tmp_path):
    channels.channel_add(name="unionpay")
    a, b = f.make_case(), f.make_case()
    good = [line(a.loan_id, "F-1"), line(b.loan_id, "F-2", amount=5_000), line(a.loan_id, "F-3", amount=1)]
    bad = [
        line(a.loan_id, "B-1", amount=-500),
        line(987_654_321, "B-2"),
        line(a.loan_id, "B-3", paid_at="2026-12-07T10:15:00"),  # no offset
        line(a.loan_id, "B-4", paid_at="yesterday"),
        {k: v for k, v in line(a.loan_id, "B-5").items() if k != "amount_fen"},
        line(a.loan_id, "B-6", channel="nosuch"),
        line(a.loan_id, "B-7", paid_at=now_iso(timedelta(days=2))),
    ]
    text = (
        "\n".join(json.dumps(x) for x in good[:2])
        + "\n{not json\n"
        + "\n".join(json.dumps(x) for x in bad)
        + "\n\n"
        + json.dumps(good[2])
        + "\n"
    )
    path = tmp_path / "P.jsonl"
    path.write_text(text)
    runner = CliRunner()
    first = runner.invoke(cli_app, ["payments", "post", "--file", str(path), "--json"])
    assert first.exit_code == 1, first.output  # some lines were refused
    answer = json.loads(first.stdout)
    assert answer["applied"] == 3 and answer["duplicates"] == 0
    reasons = {r["line"]: r["reason"] for r in answer["rejected"]}
    assert reasons == {
        3: "the line is not valid JSON",
        4: "amount_fen must be positive, got -500",
        5: "unknown loan 987654321",
        6: "paid_at '2026-12-07T10:15:00' has no UTC offset",
        7: "paid_at 'yesterday' is not an ISO 8601 time",
        8: "missing field amount_fen",
        9: "unknown channel 'nosuch'",
        10: f"paid_at {bad[6]['paid_at']!r} is in the future",
    }
    second = runner.invoke(cli_app, ["payments", "post", "--file", str(path), "--json"])
    assert json.loads(second.stdout)["applied"] == 0 and json.loads(second.stdout)["duplicates"] == 3
    assert Payment.objects.filter(loan_id=a.loan_id).count() == 2
    assert sorted(Payment.objects.filter(loan_id=a.loan_id).values_list("amount_fen", flat=True)) == [
        1,
        10_000,
    ]
    assert PaymentEvent.objects.count() == 3
    audit = AuditEntry.objects.get(action="payment.same_day")  # one per batch, in its transaction
    assert (
        audit.new["payments"] == 3
        and audit.new["amount_fen"] == 10_001 + 5_000
        and audit.actor_label == "cli"
    )


def test_a_reference_reused_for_another_payment_is_refused_not_applied():
    channels.channel_add(name="unionpay")
    case = f.make_case()
    first = payments_post(lines=[(1, line(case.loan_id, "R-1")), (2, line(case.loan_id, "R-1", amount=7))])
    assert first.applied == 1 and "used by line 1" in first.rejected[0]["reason"]
    later = payments_post(lines=[(1, line(case.loan_id, "R-1", amount=8))])
    assert later.applied == 0 and "already recorded for another payment" in later.rejected[0]["reason"]
    assert Payment.objects.get(reference="unionpay:R-1").amount_fen == 10_000


def test_a_loan_without_an_open_case_is_recorded_without_a_case_payment():
    channels.channel_add(name="unionpay")
    case = f.make_case(closed_on=f.today() - timedelta(days=3), status="closed")
    result = payments_post(lines=[(1, line(case.loan_id, "N-1"))])
    assert result.applied == 1
    event = PaymentEvent.objects.get(reference="N-1")
    assert event.status == PaymentEvent.Status.NO_CASE and event.payment_id is None


# ------------------------------------------------------------------ effects at once


def test_payment_keeps_the_promise_and_attributes_the_commission_at_once():
    channels.channel_add(name="unionpay")
    agency = f.make_agency()
    contract = f.make_contract(agency=agency)
    case = f.make_case(agency=agency, status="placed")
    placement = Placement.objects.create(
        case=case,
        agency=agency,
        contract=contract,
        starts_on=f.today() - timedelta(days=5),
        ends_on=f.today() + timedelta(days=50),
    )
    user = f.make_user(role=Role.COLLECTIONS_MANAGER)
    promise = promise_record(
        case=case, acting_user=user, amount_fen=30_000, due_on=f.today() + timedelta(days=3)
    )
    # a partial payment: still open
    payments_post(lines=[(1, line(case.loan_id, "K-1", amount=20_000))])
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.OPEN
    payments_post(lines=[(1, line(case.loan_id, "K-2", amount=10_000))])
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.KEPT and promise.paid_fen == 30_000
    assert set(Payment.objects.filter(case=case).values_list("placement_id", flat=True)) == {placement.pk}
    # a payment of a case without a placement is the bank's own
    own = f.make_case()
    payments_post(lines=[(1, line(own.loan_id, "K-3"))])
    assert Payment.objects.get(reference="unionpay:K-3").placement_id is None


def test_payment_after_the_due_date_does_not_break_anything_the_same_day():
    """Breaking a promise stays with the nightly watch: a same-day payment only keeps."""
    channels.channel_add(name="unionpay")
    case = f.make_case()
    promise = PromiseToPay.objects.create(
        case=case,
        amount_fen=50_000,
        due_on=f.today() - timedelta(days=10),
        promised_on=f.today() - timedelta(days=20),
    )
    payments_post(lines=[(1, line(case.loan_id, "L-1", amount=100))])
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.OPEN


def test_payment_pays_the_plan_instalment_at_once(plan_world):
    channels.channel_add(name="unionpay")
    w = plan_world
    p, offer = _to_offered(w, "term_extension")
    from fieldcollect.plans import services as plan_services

    plan_services.plan_accept(token=offer.token)
    rows = list(PlanInstalment.objects.filter(proposal=p).order_by("seq"))
    assert all(r.paid_on is None for r in rows)
    payments_post(lines=[(1, line(w.case.loan_id, "I-1", amount=rows[0].payment_fen - 1))])
    assert PlanInstalment.objects.get(pk=rows[0].pk).paid_on is None  # one fen short
    payments_post(lines=[(1, line(w.case.loan_id, "I-2", amount=1))])
    paid = dict(PlanInstalment.objects.filter(proposal=p).values_list("seq", "paid_on"))
    assert paid[1] == f.today() and paid[2] is None
    p.refresh_from_db()
    assert p.plan_status == "performing"


def test_paying_the_overdue_cancels_tomorrows_visit_and_takes_the_case_off_the_route():
    channels.channel_add(name="unionpay")
    agency = f.make_agency()
    f.make_contract(agency=agency)
    a, b = f.make_collector(agency=agency), f.make_collector(agency=agency)
    # the overdue amount of last night's cycle (yesterday's business date)
    yesterday = f.today() - timedelta(days=1)
    case = f.make_case(agency=agency, status="placed", overdue_fen=120_000, last_cycle_on=yesterday)
    other = f.make_case(agency=agency, status="placed", overdue_fen=90_000, last_cycle_on=yesterday)
    for c in (case, other):
        Placement.objects.create(
            case=c,
            agency=agency,
            starts_on=f.today() - timedelta(days=5),
            ends_on=f.today() + timedelta(days=50),
        )
    tomorrow = f.today() + timedelta(days=1)
    start = f.in_hours(10, tomorrow)
    appointment, other_appointment = (
        Appointment.objects.create(case=c, collector=a, status=Appointment.Status.CONFIRMED, chosen_start=start,
                                   chosen_end=start + timedelta(hours=1), expires_at=start)
        for c in (case, other)
    )
    team = make(
        "visits.Team",
        agency=agency,
        city="上海",
        date=tomorrow,
        member_a=a,
        member_b=b,
        base_lat=31.2,
        base_lon=121.5,
        shift_start=f.in_hours(9, tomorrow),
        shift_end=f.in_hours(18, tomorrow),
    )
    plan = RoutePlan.objects.create(team=team, city="上海", date=tomorrow)
    for i, c in enumerate((case, other), start=1):
        RouteStop.objects.create(plan=plan, order=i, visit_id=f"case-{c.pk}", case=c, lat=31.2, lon=121.5)
    # a partial payment: the visit stays
    result = payments_post(
        lines=[(1, line(case.loan_id, "V-1", amount=100_000)), (2, line(other.loan_id, "V-2", amount=1_000))]
    )
    assert result.effects["visits_cancelled"] == 0
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED
    # the rest of the overdue amount: cancelled with the reason, the stop leaves the route plan
    result = payments_post(lines=[(1, line(case.loan_id, "V-3", amount=20_000))])
    assert result.effects["visits_cancelled"] == 1 and result.effects["route_plans_changed"] == 1
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason) == (Appointment.Status.CANCELLED, "paid")
    assert list(RouteStop.objects.filter(plan=plan).values_list("case_id", flat=True)) == [other.pk]
    other_appointment.refresh_from_db()
    assert other_appointment.status == Appointment.Status.CONFIRMED
    assert AuditEntry.objects.filter(action="fieldwork.end", object_id=str(case.pk)).exists()


@pytest.mark.parametrize("fast", [True, False])
def test_copy_path_and_orm_path_write_the_same_rows(monkeypatch, fast):
    """The COPY fast path (PostgreSQL) and the ORM's bulk_create write the same rows."""
    from fieldcollect.payments import services

    channels.channel_add(name="unionpay")
    agency = f.make_agency()
    placed = f.make_case(agency=agency, status="placed")
    Placement.objects.create(
        case=placed,
        agency=agency,
        starts_on=f.today() - timedelta(days=5),
        ends_on=f.today() + timedelta(days=50),
    )
    plain = f.make_case()
    closed = f.make_case(closed_on=f.today() - timedelta(days=3), status="closed")
    Payment.objects.create(
        loan_id=plain.loan_id, case=plain, paid_on=f.today(), amount_fen=10_000, reference="unionpay:H-1"
    )  # recorded by hand before with the channel's reference
    at = datetime(2026, 1, 5, 2, 30, tzinfo=UTC)
    lines = [
        (1, line(placed.loan_id, "W-1", paid_at=at.isoformat())),
        (2, line(plain.loan_id, "W-2", amount=3)),
        (3, line(closed.loan_id, "W-3")),
        (4, line(plain.loan_id, "H-1")),
        (5, line(placed.loan_id, "W-4", amount=7)),
    ]
    monkeypatch.setattr(services, "FAST_INSERT", fast)
    now = timezone.now()
    result = payments_post(lines=lines, now=now)
    assert result.as_dict() == {"applied": 5, "duplicates": 0, "rejected": []}
    pays = sorted(
        Payment.objects.values_list(
            "loan_id", "case_id", "placement_id", "paid_on", "amount_fen", "channel", "reference"
        ),
        key=str,
    )
    placement = Placement.objects.get(case=placed).pk
    today = timezone.localdate(now)
    assert pays == sorted(
        [
            (
                placed.loan_id,
                placed.pk,
                None,
                date(2026, 1, 5),
                10_000,
                "unionpay",
                "unionpay:W-1",
            ),  # before the placement
            (plain.loan_id, plain.pk, None, today, 3, "unionpay", "unionpay:W-2"),
            (placed.loan_id, placed.pk, placement, today, 7, "unionpay", "unionpay:W-4"),
            (plain.loan_id, plain.pk, None, f.today(), 10_000, "bank_transfer", "unionpay:H-1"),
        ],
        key=str,
    )
    events = sorted(
        PaymentEvent.objects.values_list(
            "reference",
            "loan_id",
            "case_id",
            "payment__reference",
            "amount_fen",
            "paid_at",
            "received_at",
            "status",
        )
    )
    assert events == [
        ("H-1", plain.loan_id, plain.pk, "unionpay:H-1", 10_000, events[0][5], now, "applied"),
        ("W-1", placed.loan_id, placed.pk, "unionpay:W-1", 10_000, at, now, "applied"),
        ("W-2", plain.loan_id, plain.pk, "unionpay:W-2", 3, events[2][5], now, "applied"),
        ("W-3", closed.loan_id, None, None, 10_000, events[3][5], now, "no_case"),
        ("W-4", placed.loan_id, placed.pk, "unionpay:W-4", 7, events[4][5], now, "applied"),
    ]


HOSTILE_BODIES = [
    b"",
    b"null",
    b"[]",
    b'"x"',
    b"1e309",
    b'{"payments": "x"}',
    b'{"payments": null}',
    b'{"payments": [1, null, [], {}, "x", true]}',
    b"[" * 5000 + b"]" * 5000,
    b"\xff\xfe\x00",
    b'{"payments": [{"reference": "a", "loan_id": 1e309, "amount_fen": NaN, "paid_at": "x", "channel": "unionpay"}]}',
    b'{"payments": [{"reference": "a", "loan_id": 99999999999999999999999, "amount_fen": 1, '
    b'"paid_at": "2026-01-01T00:00:00+08:00", "channel": "unionpay"}]}',
    b'{"reference": "'
    + b"r" * 10_000
    + b'", "loan_id": 1, "amount_fen": 1, "paid_at": "9999-12-31T23:59:59+14:00", '
    b'"channel": "unionpay"}',
    b'{"payments": [{"reference": "a\\u0000", "loan_id": -1, "amount_fen": true, "paid_at": "2026-02-30T00:00:00Z", '
    b'"channel": "UNIONPAY", "extra": 1}]}',
]


def test_signed_hostile_bodies_are_refused_never_a_server_error():
    secret = channels.channel_add(name="unionpay")
    client = Client()
    before = (Payment.objects.count(), PaymentEvent.objects.count())
    for body in HOSTILE_BODIES:
        resp = signed(client, body, secret=secret)
        assert resp.status_code in (200, 400, 422), (body[:80], resp.status_code, resp.content[:300])
        data = resp.json()
        if resp.status_code == 200:
            assert data["applied"] == 0 and data["rejected"], (body[:80], data)
        else:  # not JSON, not a list of payments; a NUL byte (the project's middleware: 422)
            assert data["error"]["code"] in ("payment.file_invalid", "request.invalid")
    assert (Payment.objects.count(), PaymentEvent.objects.count()) == before


def test_demo_payments_keep_promises_once():
    from fieldcollect.demodata.payments import demo_payments

    case = f.make_case()
    promise = PromiseToPay.objects.create(
        case=case,
        amount_fen=12_345,
        due_on=f.today() + timedelta(days=2),
        promised_on=f.today() - timedelta(days=1),
    )
    first = demo_payments()
    assert first["payments"]["applied"] == 1 and first["effects"]["promises_kept"] == 1
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.KEPT
    second = demo_payments()
    assert second["payments"] == {"applied": 0, "duplicates": 0, "rejected": []}  # nothing open any more
