"""The ledger and flags statements written out for every contact (compliance/selectors.py) return
what their ORM twins return: same rows, same decrypted values, same bounds."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import F, Q

from fieldcollect.cases.models import Channel, ContactAttempt, Outcome, Party
from fieldcollect.compliance.models import DebtorFlag, FlagKind
from fieldcollect.compliance.selectors import _entry, debtor_flags, debtor_ledger
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def orm_ledger(*, customer_id, since=None, until=None, numbers_since=None, numbers_until=None):
    qs = ContactAttempt.objects.filter(case__customer_id=customer_id)
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    out = []
    for a in qs:
        in_window = not ((numbers_since is not None and a.at < numbers_since)
                         or (numbers_until is not None and a.at >= numbers_until))
        out.append(_entry(str(customer_id), a.channel, a.party, a.at, a.number if in_window else "",
                          a.connected, a.conversation, a.agency_id))
    return out


def test_ledger_statement_matches_its_orm_twin():
    agency = f.make_agency()
    first = f.make_case(agency=agency)
    second = f.make_case()
    second.customer = first.customer  # a second case of the same debtor
    second.save()
    stranger = f.make_case()
    base = f.in_hours(10) - timedelta(days=10)
    for i in range(12):
        case = (first, second, stranger)[i % 3]
        ContactAttempt.objects.create(
            case=case, agency=agency if i % 2 else None, channel=(Channel.PHONE, Channel.SMS, Channel.VISIT)[i % 3],
            party=Party.DEBTOR if i % 4 else Party.SPOUSE, number=f"1380000{i:04d}" if i % 5 else "",
            at=base + timedelta(days=i, hours=i), connected=bool(i % 2), conversation=i % 3 == 0,
            outcome=Outcome.PROMISE if i % 2 else Outcome.REFUSED)
    bounds = [{}, {"since": base + timedelta(days=3)}, {"until": base + timedelta(days=7)},
              {"since": base + timedelta(days=2), "until": base + timedelta(days=9, hours=9)},
              {"numbers_since": base + timedelta(days=4)},
              {"since": base, "numbers_since": base + timedelta(days=2), "numbers_until": base + timedelta(days=6)}]
    for kw in bounds:
        got = debtor_ledger(customer_id=first.customer_id, **kw)
        assert Counter(got) == Counter(orm_ledger(customer_id=first.customer_id, **kw)), kw
    assert len(debtor_ledger(customer_id=first.customer_id)) == 8  # both cases of the debtor, not the stranger
    assert any(e.phone for e in debtor_ledger(customer_id=first.customer_id))  # numbers decrypted


def orm_flags(*, customer_ids, since=None):
    qs = DebtorFlag.objects.filter(customer_id__in=customer_ids).exclude(
        lifted_at__isnull=False, lifted_at__lte=F("starts_at"))
    if since is not None:
        qs = qs.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=since))
    return qs


def test_flags_statement_matches_its_orm_twin():
    a, b, c = (f.make_case().customer for _ in range(3))
    t = f.in_hours(10)
    rows = [(a, FlagKind.CEASE, -10, None, None, ""), (a, FlagKind.COMPLAINT, -10, -5, None, ""),
            (a, FlagKind.DISPUTE, -3, None, -3, ""),  # lifted at its start: never applied
            (a, FlagKind.ATTORNEY, -3, None, -4, ""),  # lifted before its start
            (a, FlagKind.THIRD_PARTY_CEASE, -2, 5, -1, "13900001111"),
            (b, FlagKind.DECEASED, -1, None, None, ""), (c, FlagKind.CONSENT_HOURS, -30, -20, None, "")]
    for customer, kind, start, end, lifted, phone in rows:
        DebtorFlag.objects.create(customer=customer, flag=kind, starts_at=t + timedelta(days=start),
                                  ends_at=t + timedelta(days=end) if end is not None else None,
                                  lifted_at=t + timedelta(days=lifted) if lifted is not None else None,
                                  reason="test", phone=phone)
    for ids in ([a.pk], [a.pk, b.pk], [a.pk, b.pk, c.pk], [c.pk]):
        for since in (None, t - timedelta(days=25), t - timedelta(days=5), t):
            got = Counter((fl.debtor_id, fl.flag, fl.start, fl.end, fl.phone)
                          for fl in debtor_flags(customer_ids=ids, since=since))
            want = Counter((str(fl.customer_id), fl.flag, fl.starts_at, fl.ends_at, fl.phone or None)
                           for fl in orm_flags(customer_ids=ids, since=since))
            assert got == want, (ids, since)
    assert len(debtor_flags(customer_ids=[a.pk])) == 3
    assert any(fl.phone == "13900001111" for fl in debtor_flags(customer_ids=[a.pk]))
