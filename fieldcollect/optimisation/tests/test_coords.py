"""WGS-84 ↔ GCJ-02 ↔ BD-09 against published reference points, and the navigation links.

Reference points (read from the public sources named; only the numbers are used):

* EVIL — googollee/eviltransform, ``python/test.py``: WGS-84 → GCJ-02 pairs in Shanghai, Shenzhen and
  Beijing (its forward transform is checked to 1e-6°, its exact inverse to 0.5 m). (Its two BD-09
  pairs are not used: they disagree with its own published formulas by 10–40 m.)
* WANDERGIS — wandergis/coordtransform, ``test/app.js``: the four conversions of (116.404, 39.915),
  Baidu's demo centre at Tiananmen.
* PYXIS — the Python tests of the ``pyxis`` coordinate library (``crypto`` conversions): one point
  near Shanghai in all three systems.
* AMAP_API — the value that Amap's coordinate-conversion web API returned for WGS-84 (39.90734,
  116.39089), recorded (marked "# api") in the tests of an R package's ``transform_coord``; the
  published formula matches it to a few decimetres.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from fieldcollect.optimisation.coords import (
    System,
    convert,
    from_wgs84,
    in_china,
    nav_urls,
    system_of,
    to_wgs84,
)
from fieldcollect.optimisation.travel import LatLon, haversine_m

# (wgs lat, wgs lon, gcj lat, gcj lon)
EVIL = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]
# input (lat, lon) → expected (lat, lon), (source, target)
WANDERGIS = [
    ("bd09", "gcj02", (39.915, 116.404), (39.90865673957631, 116.39762729119315)),
    ("gcj02", "bd09", (39.915, 116.404), (39.92133699351021, 116.41036949371029)),
    ("wgs84", "gcj02", (39.915, 116.404), (39.91640428150164, 116.41024449916938)),
]
PYXIS = {"wgs84": (30.6107779, 121.0917077), "gcj02": (30.608604331756705, 121.09626935575027),
         "bd09": (30.61484572185035, 121.10271732371203)}
AMAP_API = ((39.90734, 116.39089), (39.90874539, 116.39713623))


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return haversine_m(LatLon(*a), LatLon(*b))


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVIL)
def test_wgs84_to_gcj02_matches_eviltransform(wlat, wlon, glat, glon):
    lat, lon = from_wgs84(wlat, wlon, "gcj02")
    assert lat == pytest.approx(glat, abs=1e-6)
    assert lon == pytest.approx(glon, abs=1e-6)
    # the offset is real: hundreds of metres, more than the geofence
    assert metres((wlat, wlon), (glat, glon)) > 300


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVIL)
def test_gcj02_to_wgs84_is_exact_by_iteration(wlat, wlon, glat, glon):
    back = to_wgs84(glat, glon, System.GCJ02)
    assert metres(back, (wlat, wlon)) < 0.05  # eviltransform's own exact inverse is checked to 0.5 m
    # and it is better than the one-step approximation (WGS = GCJ − offset(GCJ))
    dlat, dlon = from_wgs84(glat, glon, "gcj02")[0] - glat, from_wgs84(glat, glon, "gcj02")[1] - glon
    one_step = (glat - dlat, glon - dlon)
    assert metres(back, (wlat, wlon)) < metres(one_step, (wlat, wlon))


@pytest.mark.parametrize(("source", "target", "given", "expected"), WANDERGIS)
def test_conversions_match_coordtransform(source, target, given, expected):
    lat, lon = convert(*given, source, target)
    assert lat == pytest.approx(expected[0], abs=1e-6)
    assert lon == pytest.approx(expected[1], abs=1e-6)


@pytest.mark.parametrize("source", ["wgs84", "gcj02", "bd09"])
@pytest.mark.parametrize("target", ["wgs84", "gcj02", "bd09"])
def test_all_three_systems_match_pyxis(source, target):
    lat, lon = convert(*PYXIS[source], source, target)
    assert metres((lat, lon), PYXIS[target]) < 0.5


def test_amap_api_value():
    assert metres(from_wgs84(*AMAP_API[0], "gcj02"), AMAP_API[1]) < 1.0


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
@pytest.mark.parametrize("point", [(23.1291, 113.2644), (43.8171, 125.3235), (18.2528, 109.5119),
                                   (43.8256, 87.6168), (31.2304, 121.4737), (29.5630, 106.5516)])
def test_round_trip_sub_centimetre_across_china(system, point):
    there = from_wgs84(*point, system)
    assert metres(there, point) > 100
    assert metres(to_wgs84(*there, system), point) < 0.01


@pytest.mark.parametrize("point", [(51.5007, -0.1246), (35.6895, 139.6917), (1.3521, 103.8198),
                                   (-33.8688, 151.2093), (40.7128, -74.0060), (0.0, 0.0)])
@pytest.mark.parametrize("system", ["wgs84", "gcj02", "bd09"])
def test_outside_china_no_offset(point, system):
    assert not in_china(*point)
    assert from_wgs84(*point, system) == point
    assert to_wgs84(*point, system) == point


def test_system_names():
    assert system_of("GCJ-02") is System.GCJ02
    assert system_of("bd_09") is System.BD09
    assert system_of(System.WGS84) is System.WGS84
    for bad in ("", "utm", "wgs85", "cgcs2000"):
        with pytest.raises(ValueError, match="unknown coordinate system"):
            system_of(bad)
    with pytest.raises(ValueError):
        to_wgs84(31.0, 121.0, "mars")


def test_nav_urls_use_each_apps_system():
    point = (31.2304, 121.4737)  # Shanghai, People's Square (WGS-84)
    links = nav_urls(*point, "Case 7 · 张三")
    gcj = from_wgs84(*point, "gcj02")
    bd = from_wgs84(*point, "bd09")

    amap = urlsplit(links.amap)
    assert (amap.scheme, amap.netloc, amap.path) == ("https", "uri.amap.com", "/marker")
    q = parse_qs(amap.query)
    lon, lat = map(float, q["position"][0].split(","))
    assert metres((lat, lon), gcj) < 0.2
    assert metres((lat, lon), point) > 300  # not the raw WGS-84 numbers
    assert q["coordinate"] == ["gaode"]
    assert q["name"] == ["Case 7 · 张三"]

    baidu = urlsplit(links.baidu)
    assert (baidu.netloc, baidu.path) == ("api.map.baidu.com", "/marker")
    q = parse_qs(baidu.query)
    lat, lon = map(float, q["location"][0].split(","))
    assert metres((lat, lon), bd) < 0.2
    assert q["coord_type"] == ["bd09ll"]
    assert q["title"] == ["Case 7 · 张三"]

    apple = urlsplit(links.apple)
    assert apple.netloc == "maps.apple.com"
    q = parse_qs(apple.query)
    lat, lon = map(float, q["ll"][0].split(","))
    assert metres((lat, lon), gcj) < 0.2
    assert set(links.as_dict()) == {"amap", "baidu", "apple"}


def test_nav_urls_outside_china_are_the_raw_position():
    links = nav_urls(48.8584, 2.2945, "")
    q = parse_qs(urlsplit(links.amap).query)
    assert q["position"] == ["2.294500,48.858400"]
    assert parse_qs(urlsplit(links.baidu).query)["location"] == ["48.858400,2.294500"]
    assert parse_qs(urlsplit(links.apple).query)["ll"] == ["48.858400,2.294500"]
