"""The map pages' Leaflet data (points in WGS-84, the tile provider) and the day plan's Navigate links."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from fieldcollect.optimisation.coords import from_wgs84
from fieldcollect.visits.tests.conftest import move_plan_to_today, plan_day


def _plan(vw, *, confirm_case2: bool = True):
    # the planned day is today and the confirmed appointments in the next hours: the collector sees the
    # addresses in clear (fieldcollect.privacy), as at the door
    return move_plan_to_today(*plan_day(vw, appointments=((vw.case2, (10, 11), confirm_case2),
                                                          (vw.case1, (14, 15), True))))


def _json(html: str, element_id: str):
    start = html.index(f'id="{element_id}" type="application/json">') + len(f'id="{element_id}" type="application/json">')
    return json.loads(html[start:html.index("</script>", start)])


def test_day_plan_navigate_links_in_each_apps_system(client, vw, settings):
    settings.MAP_TILES = {"url": ""}
    day = _plan(vw)
    client.force_login(vw.user1)
    html = client.get(f"/visits/day/?date={day.isoformat()}").content.decode()
    assert _json(html, "fieldmap-tiles") is None
    points = _json(html, "fieldmap-points")["points"]
    assert {(p["lat"], p["lon"]) for p in points} >= {(31.2400, 121.4900), (31.2200, 121.4500)}  # WGS-84
    assert html.count('data-app="amap"') == 2 and html.count('data-app="baidu"') == 2
    amap = html.split('data-app="amap"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    q = parse_qs(urlsplit(amap).query)
    lon, lat = map(float, q["position"][0].split(","))
    gcj = from_wgs84(31.2200, 121.4500, "gcj02")  # the first stop is case2's (10:00)
    assert abs(lat - gcj[0]) < 1e-6 and abs(lon - gcj[1]) < 1e-6
    label = q["name"][0]  # names no one: the stop's number only
    assert label.endswith("1") or "1" in label
    assert vw.case2.customer.name not in label and vw.case2.customer.address not in label


def test_day_plan_no_navigate_link_where_the_address_is_masked(client, vw):
    day = _plan(vw, confirm_case2=False)  # case2's stop is optional: its address is masked to the district
    client.force_login(vw.user1)
    html = client.get(f"/visits/day/?date={day.isoformat()}").content.decode()
    stops = html.split('id="stops"')[1].split("</ol>")[0].split("<li ")[1:]
    assert len(stops) == 2
    for stop in stops:
        assert ('data-app="amap"' in stop) == ('data-clear="1"' in stop)
    assert html.count('data-app="amap"') == 1


def test_manager_map_page_carries_the_tiles_and_points(client, vw, settings):
    settings.MAP_TILES = {"url": "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}",
                          "subdomains": "1234", "system": "gcj02", "attribution": "© AutoNavi"}
    day = _plan(vw)
    client.force_login(vw.manager)
    r = client.get(f"/visits/map/?date={day.isoformat()}")
    html = r.content.decode()
    tiles = _json(html, "fieldmap-tiles")
    assert tiles["system"] == "gcj02" and tiles["subdomains"] == "1234"
    data = _json(html, "fieldmap-points")
    assert len(data["routes"]) == 1 and len(data["points"]) == 3
    assert all(p["href"].startswith("/visits/case/") for p in data["points"] if "stop" in p["css"])
    assert 'id="svg-map"' in html and 'data-fieldmap' in html
    assert "https://webrd01.is.autonavi.com" in r["Content-Security-Policy"]
