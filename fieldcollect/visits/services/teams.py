"""Collectors' shifts and the teams of two that visit together."""

from __future__ import annotations

from datetime import date, time

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.audit.services import audit_log, snapshot
from fieldcollect.core.errors import ApplicationError, ConflictError
from fieldcollect.core.models import User
from fieldcollect.optimisation.travel import LatLon, haversine_m
from fieldcollect.visits.errors import VisitErrorCode as E
from fieldcollect.visits.models import Shift, Team
from fieldcollect.visits.services.common import aware, require_manager

DEFAULT_SHIFT = (time(9, 0), time(18, 0))


def shift_set(*, collector: Collector, day: date, start: time, end: time, acting_user: User,
              base: str = Shift.Base.OFFICE, base_lat: float | None = None, base_lon: float | None = None) -> Shift:
    """Record (or replace) a collector's shift on ``day``."""
    require_manager(acting_user, collector.agency_id)
    if end <= start:
        raise ApplicationError(_("A shift must end after it starts."), code=E.SHIFT_INVALID)
    with transaction.atomic():
        shift, _created = Shift.objects.update_or_create(
            collector=collector, date=day,
            defaults={"start": start, "end": end, "base": base,
                      "base_lat": base_lat if base_lat is not None else collector.base_lat,
                      "base_lon": base_lon if base_lon is not None else collector.base_lon},
        )
        audit_log(actor=acting_user, action="shift.set", object_type="shift", object_id=shift.pk,
                  new=snapshot(shift, ["collector", "date", "start", "end", "base"]))
    return shift


def _member_base(collector: Collector, shift: Shift | None) -> tuple[float, float] | None:
    if shift is not None and shift.base_lat is not None and shift.base_lon is not None:
        return shift.base_lat, shift.base_lon
    if collector.base_lat is not None and collector.base_lon is not None:
        return collector.base_lat, collector.base_lon
    return None


def team_create(*, member_a: Collector, member_b: Collector, day: date, acting_user: User | None,
                paired_by: str = Team.PairedBy.MANAGER) -> Team:
    """Pair two collectors for ``day``: same agency and city, both certified and trained, neither
    already in a team that day. The team starts from the midpoint of their bases and works the
    overlap of their shifts (09:00–18:00 without shifts)."""
    if acting_user is not None:
        require_manager(acting_user, member_a.agency_id)
    if member_a.pk == member_b.pk:
        raise ApplicationError(_("A team needs two different collectors."), code=E.TEAM_SAME_PERSON)
    if member_a.agency_id != member_b.agency_id:
        raise ApplicationError(_("Both collectors must belong to the same agency."), code=E.TEAM_OTHER_AGENCY)
    if member_a.city != member_b.city:
        raise ApplicationError(_("Both collectors must work in the same city."), code=E.TEAM_OTHER_CITY)
    for c in (member_a, member_b):
        if not c.qualified_on(day):
            raise ApplicationError(_("%(name)s is not certified and trained on that day.") % {"name": c.name},
                                   code=E.TEAM_NOT_QUALIFIED)
    shifts = {s.collector_id: s for s in Shift.objects.filter(collector__in=[member_a, member_b], date=day)}
    bases = [_member_base(c, shifts.get(c.pk)) for c in (member_a, member_b)]
    known = [b for b in bases if b is not None]
    if not known:
        raise ApplicationError(_("Neither collector has a base position."), code=E.TEAM_NO_BASE)
    lat = sum(b[0] for b in known) / len(known)
    lon = sum(b[1] for b in known) / len(known)
    starts = [shifts[c].start if c in shifts else DEFAULT_SHIFT[0] for c in (member_a.pk, member_b.pk)]
    ends = [shifts[c].end if c in shifts else DEFAULT_SHIFT[1] for c in (member_a.pk, member_b.pk)]
    start, end = max(starts), min(ends)
    if end <= start:
        raise ApplicationError(_("Their shifts do not overlap."), code=E.TEAM_NO_OVERLAP)
    with transaction.atomic():
        pair = [member_a.pk, member_b.pk]
        busy = Team.objects.select_for_update().filter(date=day).filter(
            Q(member_a_id__in=pair) | Q(member_b_id__in=pair)).exists()
        if busy:
            raise ConflictError(_("One of them is already in a team that day."), code=E.TEAM_BUSY)
        team = Team.objects.create(
            agency_id=member_a.agency_id, city=member_a.city, date=day, member_a=member_a, member_b=member_b,
            paired_by=paired_by, base_lat=lat, base_lon=lon, shift_start=aware(day, start),
            shift_end=aware(day, end), created_by=acting_user,
        )
        audit_log(actor=acting_user, action="team.create", object_type="team", object_id=team.pk,
                  new=snapshot(team, ["date", "city", "member_a", "member_b", "paired_by"]))
    return team


def teams_pair_automatically(*, agency: Agency, day: date, acting_user: User | None) -> list[Team]:
    """Pair the agency's qualified collectors with a shift on ``day`` who are not in a team yet: per
    city, each with the nearest remaining colleague (bases), in collector order."""
    if acting_user is not None:
        require_manager(acting_user, agency.pk)
    taken = set(Team.objects.filter(date=day, agency=agency).values_list("member_a_id", flat=True))
    taken |= set(Team.objects.filter(date=day, agency=agency).values_list("member_b_id", flat=True))
    shifts = {s.collector_id: s for s in Shift.objects.filter(date=day, collector__agency=agency)}
    pool = [c for c in Collector.objects.filter(agency=agency, active=True, pk__in=list(shifts)).order_by("pk")
            if c.pk not in taken and c.qualified_on(day) and _member_base(c, shifts.get(c.pk)) is not None]
    teams: list[Team] = []
    by_city: dict[str, list[Collector]] = {}
    for c in pool:
        by_city.setdefault(c.city, []).append(c)

    def base_of(c: Collector) -> LatLon:
        b = _member_base(c, shifts.get(c.pk))
        assert b is not None  # the pool only holds collectors with a base
        return LatLon(*b)

    for members in by_city.values():
        while len(members) >= 2:
            first = members.pop(0)
            origin = base_of(first)
            second = min(members, key=lambda c, o=origin: haversine_m(o, base_of(c)))  # type: ignore[misc]
            members.remove(second)
            try:
                teams.append(team_create(member_a=first, member_b=second, day=day, acting_user=None,
                                         paired_by=Team.PairedBy.AUTO))
            except ApplicationError:
                continue
    if acting_user is not None and teams:
        audit_log(actor=acting_user, action="team.pair_auto", object_type="agency", object_id=agency.pk,
                  new={"date": day.isoformat(), "teams": [t.pk for t in teams]})
    return teams


def team_of(*, collector_id: int, day: date) -> Team | None:
    return Team.objects.filter(date=day).filter(member_a_id=collector_id).first() or Team.objects.filter(
        date=day, member_b_id=collector_id).first()
