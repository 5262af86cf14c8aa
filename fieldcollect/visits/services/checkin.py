"""Check-in: where the collector is at a visit, verified against the customer's address."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.audit.services import audit_log
from fieldcollect.cases.access import require_capability
from fieldcollect.cases.models import Case
from fieldcollect.compliance import services as compliance_services
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import User
from fieldcollect.optimisation.coords import System, system_of, to_wgs84
from fieldcollect.optimisation.travel import LatLon, haversine_m
from fieldcollect.visits.errors import VisitErrorCode as E
from fieldcollect.visits.models import Appointment, CheckIn, VisitPermit
from fieldcollect.visits.services.common import collector_of, local_tz, require_visible
from fieldcollect.visits.services.reports import visit_conditions

GEOFENCE_M = 200.0
MAX_SPEED_KMH = 150.0


def geofence_m() -> float:
    return float(getattr(settings, "VISITS_GEOFENCE_M", os.environ.get("VISITS_GEOFENCE_M", GEOFENCE_M)))


def checkin_record(*, case: Case, acting_user: User, lat: float, lon: float, accuracy_m: float,
                   at: datetime | None = None, manual: bool = False,
                   appointment: Appointment | None = None, coord_system: str = "wgs84",
                   permit: VisitPermit | None = None,
                   flags_after_permit: list[dict[str, Any]] | None = None) -> CheckIn:
    """Record where the collector is at a visit and verify it.

    Accepted only inside the geofence around the customer's address (:func:`geofence_m`, 200 m by
    default) and without a spoofing sign: an impossible speed since the collector's previous
    check-in, or coordinates exactly equal to an earlier check-in. Outside the confirmed
    appointment's window (30 min early allowed), poor accuracy and manual entry are flagged only.

    ``lat``/``lon`` are in ``coord_system`` (``wgs84``, ``gcj02`` or ``bd09``: what the device or map
    app reported; phones using Amap or Tencent location report GCJ-02, Baidu BD-09). They are converted
    to WGS-84 (:mod:`fieldcollect.optimisation.coords`) before every check, and the check-in keeps both
    the reported numbers with their system and the WGS-84 position (``lat``/``lon``).

    An agency's check-in is refused (:class:`~fieldcollect.compliance.services.ContactBlockedError`, as
    any refused contact) while the notice before outsourcing blocks the agency's visit
    (:func:`~fieldcollect.compliance.services.notice_guard`).

    ``permit`` is the visit permit the phone checked in under (checked by the caller,
    :func:`~fieldcollect.visits.services.permits.permit_check`); ``flags_after_permit`` the debtor
    flags raised after it (a visit made under the permit before the flag).
    """
    collector = collector_of(acting_user)
    require_capability(acting_user, "case.contact")
    require_visible(case, acting_user)
    at = at or timezone.now()
    try:
        system = system_of(coord_system)
    except ValueError:
        raise ApplicationError(
            _("Unknown coordinate system %(system)s: expected wgs84, gcj02 or bd09.") % {"system": repr(coord_system)},
            code=E.CHECKIN_INVALID_SYSTEM) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or accuracy_m < 0:
        raise ApplicationError(_("Invalid position."), code=E.CHECKIN_INVALID_POSITION)
    if permit is None:
        # at the door: an agency whose notice before outsourcing was not sent (or whose waiting days have
        # not passed) is refused here already (under a permit, the caller re-checked everything)
        _team, _appointment, visit = visit_conditions(case=case, collector=collector, at=at, recording=True)
        compliance_services.notice_guard(case=case, acting_user=acting_user, channel="visit", at=at, path="checkin",
                                         agency_id=collector.agency_id, **visit)
    reported_lat, reported_lon = lat, lon
    lat, lon = to_wgs84(lat, lon, system)
    flags: list[str] = []
    customer = case.customer
    distance: float | None = None
    fence = geofence_m()
    if customer.lat is None or customer.lon is None:
        flags.append(CheckIn.Flag.OUTSIDE_GEOFENCE)
    else:
        distance = haversine_m(LatLon(lat, lon), LatLon(customer.lat, customer.lon))
        if distance > fence:
            flags.append(CheckIn.Flag.OUTSIDE_GEOFENCE)
    if accuracy_m > fence:
        flags.append(CheckIn.Flag.POOR_ACCURACY)
    previous = CheckIn.objects.filter(collector=collector, at__lte=at).order_by("-at", "-id").first()
    if previous is not None:
        metres = haversine_m(LatLon(lat, lon), LatLon(previous.lat, previous.lon))
        seconds = (at - previous.at).total_seconds()
        if metres > 1000 and (seconds <= 0 or metres / seconds * 3.6 > MAX_SPEED_KMH):
            flags.append(CheckIn.Flag.IMPOSSIBLE_SPEED)
    if CheckIn.objects.filter(collector=collector, lat=lat, lon=lon).exists():
        flags.append(CheckIn.Flag.REPEATED_COORDINATES)
    if appointment is None:
        local_day = at.astimezone(local_tz()).date()
        appointment = Appointment.objects.filter(
            case=case, status=Appointment.Status.CONFIRMED,
            chosen_start__date=local_day).order_by("chosen_start").first()
    if (appointment is None or appointment.status != Appointment.Status.CONFIRMED or appointment.chosen_start is None
            or appointment.chosen_end is None
            or not appointment.chosen_start - timedelta(minutes=30) <= at <= appointment.chosen_end):
        flags.append(CheckIn.Flag.OUTSIDE_WINDOW)
    if manual:
        flags.append(CheckIn.Flag.MANUAL)
    blocking = {CheckIn.Flag.OUTSIDE_GEOFENCE, CheckIn.Flag.IMPOSSIBLE_SPEED, CheckIn.Flag.REPEATED_COORDINATES}
    accepted = not blocking.intersection(flags)
    with transaction.atomic():
        checkin = CheckIn.objects.create(
            collector=collector, case=case, appointment=appointment, lat=lat, lon=lon, accuracy_m=accuracy_m, at=at,
            distance_m=distance, accepted=accepted, flags=[str(f) for f in flags],
            reported_system=system.value, reported_lat=reported_lat, reported_lon=reported_lon, permit=permit,
            flags_after_permit=list(flags_after_permit or []),
        )
        reported = {} if system is System.WGS84 else {
            "reported": {"system": system.value, "lat": reported_lat, "lon": reported_lon}}
        audit_log(actor=acting_user, action="checkin.record", object_type="checkin", object_id=checkin.pk,
                  new={"case": case.pk, "lat": lat, "lon": lon, "accuracy_m": accuracy_m, "accepted": accepted,
                       "flags": checkin.flags, "distance_m": distance, **reported,
                       "permit": permit.pk if permit else None, "flags_after_permit": checkin.flags_after_permit})
    return checkin
