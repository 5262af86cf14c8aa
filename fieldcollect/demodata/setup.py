"""Demo accounts and placements for `fieldcollect demo` (:func:`fieldcollect.demodata.demo.build_demo`).

One user per bank role; per approved agency an agency manager and a field-collector user linked to a
Collector row; open unplaced cases placed with eligible agencies by a simple capacity- and
region-aware round-robin (the allocation optimiser replaces it); some cases assigned to collectors.
Passwords are generated on each call and returned (never stored in the repository). Bank logins need
a second factor (TOTP): each gets a new authenticator key on each call, returned with the password.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import date, timedelta

from django.db import transaction

from fieldcollect.accounts.totp import enrol_with_secret
from fieldcollect.agencies.models import Agency, AgencyContract, Collector
from fieldcollect.agencies.selectors import DEFAULT_PERMITTED_FIELDS, ContractTerms, contract_terms
from fieldcollect.cases import services
from fieldcollect.cases.lifecycle import CaseStatus
from fieldcollect.cases.models import Case, Placement
from fieldcollect.core.models import Role, User

BANK_USERS = [
    ("manager", Role.COLLECTIONS_MANAGER),
    ("compliance", Role.COMPLIANCE_OFFICER),
    ("analyst", Role.RISK_ANALYST),
    ("auditor", Role.AUDITOR),
]
ASSIGN_TO_DEMO_COLLECTOR = 25
ASSIGN_TO_OTHER_COLLECTORS = 5
MAX_PLACED_PER_AGENCY_WITHOUT_CAPACITY = 5_000


def _password() -> str:
    return secrets.token_urlsafe(9)


def _upsert_user(*, username: str, role: str, agency_id: int | None, superuser: bool = False) -> tuple[User, str]:
    password = _password()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username)
    user.role = role
    user.agency_id = agency_id
    user.is_active = True
    user.is_staff = superuser
    user.is_superuser = superuser
    user.set_password(password)
    user.save()
    return user, password


def _ensure_contract(*, agency: Agency, as_of: date) -> None:
    """Agencies loaded from the bank's export carry their terms; write them as a contract row."""
    if AgencyContract.objects.filter(agency=agency).exists():
        return
    AgencyContract.objects.create(
        agency=agency,
        reference=f"DEMO-{agency.pk}",
        starts_on=as_of - timedelta(days=180),
        ends_on=as_of + timedelta(days=365),
        regions=list(agency.regions or []),
        capacity=agency.capacity,
        eligible_buckets=list(agency.eligible_buckets or []),
        placement_days=agency.placement_days,
        max_retentions=1,
        commission_tiers=dict(agency.commission_tiers or {}),
        permitted_fields=list(DEFAULT_PERMITTED_FIELDS),
        dsa_signed_on=as_of - timedelta(days=180),
        dsa_valid_until=agency.dsa_valid_until,
    )


def _qualify(c: Collector, as_of: date) -> None:
    c.certified_until = as_of + timedelta(days=365)
    c.trained_until = as_of + timedelta(days=365)
    c.save(update_fields=["certified_until", "trained_until"])


def _demo_collector(*, agency: Agency, as_of: date) -> Collector:
    """A collector of the agency for the demo login: a qualified one without a user if possible,
    preferably one with a colleague in the same city (visits are made by teams of two)."""
    free = list(Collector.objects.filter(agency=agency, user__isnull=True, active=True).order_by("collector_id"))
    cities = [c.city for c in Collector.objects.filter(agency=agency, active=True)]
    for c in free:
        if c.qualified_on(as_of) and cities.count(c.city) >= 2:
            return c
    for c in free:
        if c.qualified_on(as_of):
            return c
    if free:
        c = free[0]
    else:
        next_id = (Collector.objects.order_by("-collector_id").values_list("collector_id", flat=True).first() or 0) + 1
        c = Collector.objects.create(collector_id=next_id, agency=agency, name=f"{agency.name} 催收员",
                                     city=(agency.regions or [""])[0])
    _qualify(c, as_of)
    return c


def demo_partner(*, collector: Collector, as_of: date) -> Collector:
    """The colleague who visits with the demo collector: another active collector of the agency in the
    same city (a colleague is moved to the city when there is none), certified and trained for the demo."""
    others = Collector.objects.filter(agency_id=collector.agency_id, active=True).exclude(pk=collector.pk)
    partner = others.filter(city=collector.city).order_by("collector_id").first()
    if partner is None:
        partner = others.filter(user__isnull=True).order_by("collector_id").first()
        if partner is None:
            next_id = (Collector.objects.order_by("-collector_id").values_list("collector_id", flat=True).first() or 0) + 1
            partner = Collector.objects.create(collector_id=next_id, agency_id=collector.agency_id,
                                               name=f"{collector.name}的搭档", city=collector.city)
        partner.city = collector.city
        partner.base_lat, partner.base_lon = collector.base_lat, collector.base_lon
        partner.save(update_fields=["city", "base_lat", "base_lon"])
    if not (partner.certified_until and partner.trained_until
            and min(partner.certified_until, partner.trained_until) >= as_of + timedelta(days=180)):
        _qualify(partner, as_of)
    return partner


def _round_robin_placements(*, agencies: list[Agency], terms: dict[int, ContractTerms],
                            as_of: date) -> list[tuple[Case, Agency]]:
    held: defaultdict[int, int] = defaultdict(int)
    for agency_id in Placement.objects.filter(status=Placement.Status.ACTIVE).values_list("agency_id", flat=True):
        held[agency_id] += 1
    room = {
        a.pk: (terms[a.pk].capacity or MAX_PLACED_PER_AGENCY_WITHOUT_CAPACITY) - held[a.pk] for a in agencies
    }
    by_id = {a.pk: a for a in agencies}
    turn = 0
    out: list[tuple[Case, Agency]] = []
    cases = (
        Case.objects.filter(agency__isnull=True, closed_on__isnull=True,
                            status__in=[CaseStatus.NEW, CaseStatus.RECALLED])
        .only("id", "city", "bucket", "dpd", "version", "status")
        .order_by("-dpd", "id")
    )
    order = [a.pk for a in agencies]
    for case in cases.iterator(chunk_size=5000):
        n = len(order)
        for k in range(n):
            agency_id = order[(turn + k) % n]
            if room[agency_id] > 0 and terms[agency_id].serves(city=case.city, bucket=case.bucket):
                out.append((case, by_id[agency_id]))
                room[agency_id] -= 1
                turn = (turn + k + 1) % n
                break
    return out


def setup_demo_users_and_placements(*, as_of: date,
                                    placed_on: date | None = None) -> list[tuple[str, str, str, int | None, str]]:
    """Create (or reset) the demo logins, place open cases (placements starting on ``placed_on``, by
    default ``as_of``: the demo dates its first placements before its period) and assign some of them.

    Returns ``(username, password, role, agency_id, totp_key)`` for every demo login (``totp_key`` is
    the base32 authenticator key of a bank login, empty for agency logins); passwords and keys are new
    on each call.
    """
    import pyotp

    logins: list[tuple[str, str, str, int | None, str]] = []
    with transaction.atomic():
        for username, role in BANK_USERS:
            user, pw = _upsert_user(username=username, role=role, agency_id=None,
                                    superuser=role == Role.COLLECTIONS_MANAGER)
            key = pyotp.random_base32(32)
            enrol_with_secret(user=user, secret=key)
            logins.append((username, pw, str(role), None, key))

        agencies = list(Agency.objects.filter(status=Agency.Status.APPROVED).order_by("agency_id"))
        managers: dict[int, User] = {}
        demo_collectors: dict[int, Collector] = {}
        for agency in agencies:
            _ensure_contract(agency=agency, as_of=as_of)
            mgr, pw = _upsert_user(username=f"agency{agency.pk}_manager", role=Role.AGENCY_MANAGER,
                                   agency_id=agency.pk)
            logins.append((mgr.username, pw, str(Role.AGENCY_MANAGER), agency.pk, ""))
            managers[agency.pk] = mgr
            col_user, pw = _upsert_user(username=f"agency{agency.pk}_collector", role=Role.FIELD_COLLECTOR,
                                        agency_id=agency.pk)
            existing = Collector.objects.filter(user=col_user).first()
            collector = existing if existing is not None else _demo_collector(agency=agency, as_of=as_of)
            if existing is None:
                collector.user = col_user
                collector.save(update_fields=["user"])
            demo_collectors[agency.pk] = collector
            demo_partner(collector=collector, as_of=as_of)
            logins.append((col_user.username, pw, str(Role.FIELD_COLLECTOR), agency.pk, ""))

    terms: dict[int, ContractTerms] = {}
    eligible: list[Agency] = []
    for agency in agencies:
        t = contract_terms(agency=agency, on=as_of)
        if t is not None and t.dsa_valid_on(as_of):
            terms[agency.pk] = t
            eligible.append(agency)
    pairs = _round_robin_placements(agencies=eligible, terms=terms, as_of=as_of)
    services.cases_place_bulk(placements=pairs, starts_on=placed_on or as_of, acting_user=None)

    for agency in eligible:
        manager = managers[agency.pk]
        plan: list[tuple[Collector, int]] = [(demo_collectors[agency.pk], ASSIGN_TO_DEMO_COLLECTOR)]
        for c in Collector.objects.filter(agency=agency, active=True).exclude(pk=demo_collectors[agency.pk].pk):
            if c.qualified_on(as_of):
                plan.append((c, ASSIGN_TO_OTHER_COLLECTORS))
        unassigned = iter(
            Case.objects.filter(agency=agency, collector__isnull=True, closed_on__isnull=True)
            .order_by("-dpd", "id")[: sum(n for _, n in plan)]
        )
        for collector, n in plan:
            for _ in range(n):
                case = next(unassigned, None)
                if case is None:
                    break
                services.case_assign(case=case, collector=collector, acting_user=manager)
    return logins
