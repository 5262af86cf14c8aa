"""The geofence across coordinate systems: a position is converted to WGS-84 before every check."""

from __future__ import annotations

import math

import pytest
from django.utils import translation

from fieldcollect.audit.models import AuditEntry
from fieldcollect.core.errors import ApplicationError
from fieldcollect.optimisation.coords import from_wgs84
from fieldcollect.optimisation.travel import LatLon, haversine_m
from fieldcollect.visits import services
from fieldcollect.visits.errors import VisitErrorCode
from fieldcollect.visits.models import CheckIn
from fieldcollect.visits.tests.conftest import at

CUSTOMER = (31.2400, 121.4900)  # case1's customer (WGS-84), Shanghai Huangpu


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + metres / 111_195.0, point[1]


def east_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0], point[1] + metres / (111_195.0 * math.cos(math.radians(point[0])))


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return haversine_m(LatLon(*a), LatLon(*b))


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_point_150m_away_in_a_chinese_system_is_accepted_and_the_same_numbers_as_wgs84_are_not(vw, system):
    here = north_of(CUSTOMER, 150)
    assert metres(here, CUSTOMER) == pytest.approx(150, abs=1)
    raw = from_wgs84(*here, system)  # what an Amap/Tencent (GCJ-02) or Baidu (BD-09) location reports
    assert metres(raw, here) > 450  # the offset in a Chinese city is larger than the 200 m geofence

    ok = services.checkin_record(case=vw.case1, acting_user=vw.user1, lat=raw[0], lon=raw[1], accuracy_m=10,
                                 at=at(vw.day, 10, 0), coord_system=system)
    assert ok.accepted and CheckIn.Flag.OUTSIDE_GEOFENCE not in ok.flags
    assert ok.distance_m == pytest.approx(150, abs=1)
    # stored: the WGS-84 position and what was reported
    assert metres((ok.lat, ok.lon), here) < 0.01
    assert (ok.reported_system, ok.reported_lat, ok.reported_lon) == (system, raw[0], raw[1])
    entry = AuditEntry.objects.filter(action="checkin.record", object_id=str(ok.pk)).get()
    assert entry.new["reported"] == {"system": system, "lat": raw[0], "lon": raw[1]}

    wrong = services.checkin_record(case=vw.case1, acting_user=vw.user1, lat=raw[0], lon=raw[1], accuracy_m=10,
                                    at=at(vw.day, 14, 0))  # the same numbers taken as WGS-84 (the default)
    assert not wrong.accepted and CheckIn.Flag.OUTSIDE_GEOFENCE in wrong.flags
    assert wrong.distance_m > 300
    assert wrong.reported_system == "wgs84" and (wrong.lat, wrong.lon) == raw


@pytest.mark.parametrize("system", ["wgs84", "gcj02", "bd09"])
def test_point_300m_away_is_refused_in_every_system(vw, system):
    raw = from_wgs84(*east_of(CUSTOMER, 300), system)
    c = services.checkin_record(case=vw.case1, acting_user=vw.user1, lat=raw[0], lon=raw[1], accuracy_m=10,
                                at=at(vw.day, 10, 0), coord_system=system)
    assert not c.accepted and c.distance_m == pytest.approx(300, abs=1)


def test_speed_is_measured_on_wgs84(vw):
    # the customer's own position in WGS-84, then 20 s later the same place reported in BD-09 (≈1.1 km
    # away as raw numbers: 200 km/h if compared unconverted)
    first = services.checkin_record(case=vw.case1, acting_user=vw.user1, lat=CUSTOMER[0], lon=CUSTOMER[1],
                                    accuracy_m=5, at=at(vw.day, 10, 0))
    assert first.accepted
    raw = from_wgs84(*north_of(CUSTOMER, 20), "bd09")
    assert metres(raw, CUSTOMER) > 1000
    second = services.checkin_record(case=vw.case1, acting_user=vw.user1, lat=raw[0], lon=raw[1], accuracy_m=5,
                                     at=at(vw.day, 10, 0).replace(second=20), coord_system="bd09")
    assert CheckIn.Flag.IMPOSSIBLE_SPEED not in second.flags and second.accepted
    # hard negative: the same raw numbers as WGS-84 are an impossible jump
    third = services.checkin_record(case=vw.case1, acting_user=vw.user1, lat=raw[0], lon=raw[1] + 1e-6,
                                    accuracy_m=5, at=at(vw.day, 10, 0).replace(second=40))
    assert CheckIn.Flag.IMPOSSIBLE_SPEED in third.flags and not third.accepted


@pytest.mark.parametrize("system", ["wgs84", "gcj02", "bd09"])
def test_outside_china_every_system_is_the_same_position(vw, system):
    london = (51.5007, -0.1246)
    vw.case1.customer.lat, vw.case1.customer.lon = london
    vw.case1.customer.save(update_fields=["lat", "lon"])
    near = north_of(london, 150)
    ok = services.checkin_record(case=vw.case1, acting_user=vw.user1, lat=near[0], lon=near[1], accuracy_m=10,
                                 at=at(vw.day, 10, 0), coord_system=system)
    assert ok.accepted and (ok.lat, ok.lon) == near and ok.distance_m == pytest.approx(150, abs=1)
    far = north_of(london, 400)
    refused = services.checkin_record(case=vw.case1, acting_user=vw.user1, lat=far[0], lon=far[1], accuracy_m=10,
                                      at=at(vw.day, 14, 0), coord_system=system)
    assert not refused.accepted and refused.distance_m == pytest.approx(400, abs=1)


@pytest.mark.parametrize("bad", ["mars", "", "utm", "gcj03"])
def test_unknown_system_is_refused(vw, bad):
    with translation.override("en"), pytest.raises(ApplicationError) as exc:
        services.checkin_record(case=vw.case1, acting_user=vw.user1, lat=CUSTOMER[0], lon=CUSTOMER[1],
                                accuracy_m=5, coord_system=bad)
    assert exc.value.code == VisitErrorCode.CHECKIN_INVALID_SYSTEM
    assert exc.value.status_code == 400
    assert not CheckIn.objects.exists()
    assert not AuditEntry.objects.filter(action="checkin.record").exists()


def test_checkin_page_sends_the_system(client, vw):
    client.force_login(vw.user1)
    page = client.get(f"/visits/case/{vw.case1.pk}/checkin").content.decode()
    assert 'name="coord_system"' in page and 'value="gcj02"' in page and 'value="bd09"' in page
    raw = from_wgs84(*north_of(CUSTOMER, 120), "gcj02")
    r = client.post(f"/visits/case/{vw.case1.pk}/checkin", {"lat": f"{raw[0]:.7f}", "lon": f"{raw[1]:.7f}",
                                                            "accuracy": "10", "coord_system": "gcj02"})
    assert r.status_code == 200 and 'data-accepted="1"' in r.content.decode()
    c = CheckIn.objects.get()
    assert c.reported_system == "gcj02" and c.distance_m == pytest.approx(120, abs=2)
    # no system: WGS-84, the browser's (the same numbers are then far from the address)
    r = client.post(f"/visits/case/{vw.case1.pk}/checkin", {"lat": f"{raw[0]:.7f}", "lon": f"{raw[1]:.7f}",
                                                            "accuracy": "10"})
    assert r.status_code == 200 and 'data-accepted="0"' in r.content.decode()
    assert CheckIn.objects.latest("id").reported_system == "wgs84"


def test_checkin_page_refuses_an_unknown_system_with_400(client, vw):
    client.force_login(vw.user1)
    url = f"/visits/case/{vw.case1.pk}/checkin"
    with translation.override("en"):
        r = client.post(url, {"lat": "31.24", "lon": "121.49", "accuracy": "10", "coord_system": "mars"},
                        HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400
    html = r.content.decode()
    assert 'data-field="coord_system"' in html and "mars" in html
    r = client.post(url, {"lat": "31.24", "lon": "121.49", "accuracy": "10", "coord_system": "mars"},
                    HTTP_HX_REQUEST="true")
    assert r.status_code == 400 and 'id="checkin-errors"' in r.content.decode()
    assert not CheckIn.objects.exists()
