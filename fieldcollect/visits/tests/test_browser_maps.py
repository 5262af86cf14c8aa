"""In a real browser: the Leaflet maps on a tile provider served by the test, the SVG fallback without
one or when the tiles cannot be loaded, and the browser's coordinate conversion (coords.js) against the
server's (fieldcollect.optimisation.coords)."""

from __future__ import annotations

import json
import struct
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fieldcollect.optimisation.coords import from_wgs84, to_wgs84
from fieldcollect.testing.browser import BROWSER_TEST, open_page, sign_in
from fieldcollect.visits import services
from fieldcollect.visits.tests.conftest import at

pytestmark = BROWSER_TEST


def _png() -> bytes:
    """A 1×1 grey PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xcc")) + chunk(b"IEND", b""))


class TileServer:
    def __init__(self) -> None:
        self.requests: list[str] = []
        png = _png()
        seen = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(png)))
                self.end_headers()
                self.wfile.write(png)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tile_server() -> Iterator[TileServer]:
    server = TileServer()
    yield server
    server.close()


def _manager_day(vw) -> None:
    team = services.team_create(member_a=vw.c1, member_b=vw.c2, day=vw.day, acting_user=vw.manager)
    for case, hours in ((vw.case2, (10, 11)), (vw.case1, (14, 15))):
        a, _t = services.appointment_propose(case=case, acting_user=vw.user1,
                                             windows=[(at(vw.day, hours[0]), at(vw.day, hours[1]))])
        services.appointment_confirm(appointment=a, window=0)
    services.route_plan_build(team=team, acting_user=vw.manager, time_limit=1.0, max_iterations=200)
    services.checkin_record(case=vw.case2, acting_user=vw.user1, lat=31.2201, lon=121.4501, accuracy_m=8,
                            at=at(vw.day, 10, 5))


def _open_map(live_server, vw, browser, client):
    page, ctx, errors = open_page(browser, viewport={"width": 1000, "height": 800})
    sign_in(ctx, client=client, user=vw.manager, url=live_server.url)
    response = page.goto(f"{live_server.url}/visits/map/?date={vw.day.isoformat()}")
    assert response is not None and response.status == 200
    return page, ctx, errors, response


def test_manager_map_draws_leaflet_markers_on_the_configured_tiles(live_server, vw, browser, client, settings,
                                                                    tile_server):
    _manager_day(vw)
    origin = f"http://127.0.0.1:{tile_server.port}"
    settings.MAP_TILES = {"url": origin + "/tiles/{z}/{x}/{y}.png", "attribution": "Test tiles",
                          "system": "gcj02", "subdomains": "", "max_zoom": "18"}
    page, ctx, errors, response = _open_map(live_server, vw, browser, client)
    csp = response.headers["content-security-policy"]
    img_src = next(d for d in csp.split("; ") if d.startswith("img-src"))
    assert img_src.split() == ["img-src", "'self'", "data:", "blob:", origin]  # that host only

    page.wait_for_selector("#fieldmap[data-state=leaflet] .leaflet-tile-loaded")
    points = json.loads(page.locator("#fieldmap-points").text_content())["points"]
    assert len(points) == 4  # two stops, the team's base, one check-in
    markers = page.locator("#fieldmap .leaflet-marker-icon")
    assert markers.count() == len(points)
    assert page.locator("#fieldmap .fieldmap-marker.checkin.ok").count() == 1
    assert page.locator("#fieldmap .leaflet-overlay-pane path").count() == 1  # the team's route
    assert page.locator("#fieldmap .leaflet-control-attribution").inner_text().endswith("Test tiles")
    assert page.locator("#svg-map").is_hidden() and page.locator("#fieldmap").is_visible()
    assert tile_server.requests and all(p.startswith("/tiles/") for p in tile_server.requests)
    # a marker's popup links to the visit page of its case
    markers.nth(0).click()
    assert page.locator(".leaflet-popup-content a").get_attribute("href").startswith("/visits/case/")
    assert errors == []
    ctx.close()


def test_manager_map_without_a_provider_is_the_svg(live_server, vw, browser, client, settings):
    _manager_day(vw)
    settings.MAP_TILES = {"url": "", "system": "wgs84"}
    page, ctx, errors, response = _open_map(live_server, vw, browser, client)
    assert "img-src 'self' data: blob:;" in response.headers["content-security-policy"]
    assert page.locator("#fieldmap-tiles").text_content() == "null"
    page.wait_for_load_state("networkidle")
    assert page.locator("#svg-map").is_visible() and page.locator("#fieldmap").is_hidden()
    assert page.locator("#route-map g.stop").count() == 2
    assert page.locator(".leaflet-container").count() == 0
    assert errors == []
    ctx.close()


def test_manager_map_falls_back_to_the_svg_when_tiles_fail(live_server, vw, browser, client, settings):
    _manager_day(vw)
    dead = TileServer()
    port = dead.port
    dead.close()  # nothing listens there any more: every tile fails, as with no connection
    settings.MAP_TILES = {"url": f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png", "system": "wgs84"}
    page, ctx, _errors, _response = _open_map(live_server, vw, browser, client)
    page.wait_for_selector("#fieldmap[data-state=fallback]", state="attached")
    assert page.locator("#svg-map").is_visible() and page.locator("#fieldmap").is_hidden()
    assert page.locator("#route-map g.stop").count() == 2
    ctx.close()


POINTS = [
    (31.1774276, 121.5272106), (22.543847, 113.912316), (39.911954, 116.377817),  # eviltransform's
    (39.915, 116.404), (30.6107779, 121.0917077), (43.8256, 87.6168), (18.2528, 109.5119),
    (45.8038, 126.5350), (29.6520, 91.1721), (53.4, 122.3), (4.0, 112.0),  # across China and its box
    (51.5007, -0.1246), (35.6895, 139.6917), (1.3521, 103.8198), (-33.8688, 151.2093), (0.0, 0.0),  # outside
]


def test_coords_js_agrees_with_python(live_server, browser):
    page, ctx, errors = open_page(browser)
    page.goto(f"{live_server.url}/accounts/login/")
    got = page.evaluate("""async (points) => {
        const c = await import("/static/fieldcollect/coords.js");
        const out = [];
        for (const [lat, lon] of points) {
            for (const s of c.SYSTEMS) out.push({s, lat, lon, there: c.fromWgs84(lat, lon, s), back: c.toWgs84(lat, lon, s)});
        }
        let refused = false;
        try { c.toWgs84(31, 121, "mars"); } catch (e) { refused = e instanceof RangeError; }
        return {out, refused};
    }""", [list(p) for p in POINTS])
    assert got["refused"]
    assert len(got["out"]) == len(POINTS) * 3
    for row in got["out"]:
        there = from_wgs84(row["lat"], row["lon"], row["s"])
        back = to_wgs84(row["lat"], row["lon"], row["s"])
        assert row["there"] == pytest.approx(list(there), abs=1e-9), row
        assert row["back"] == pytest.approx(list(back), abs=1e-9), row
    assert errors == []
    ctx.close()


def test_checkin_form_sends_the_coordinate_system(live_server, vw, browser, client):
    from fieldcollect.visits.models import CheckIn

    here = (31.2410, 121.4900)  # ≈110 m north of case1's customer (WGS-84)
    page, ctx, errors = open_page(browser, viewport={"width": 390, "height": 844}, permissions=["geolocation"],
                                  geolocation={"latitude": here[0], "longitude": here[1], "accuracy": 12})
    sign_in(ctx, client=client, user=vw.user1, url=live_server.url)
    page.goto(f"{live_server.url}/visits/case/{vw.case1.pk}/checkin")
    # the browser's position fills the form, in WGS-84 (the Geolocation API's system)
    page.wait_for_function("document.querySelector('#checkin-form [name=lat]').value !== ''")
    assert page.locator("#checkin-form [name=coord_system]").input_value() == "wgs84"
    page.locator("#checkin-form button[type=submit]").click()
    page.wait_for_selector("#checkin-outcome[data-accepted='1']")
    first = CheckIn.objects.get()
    assert first.reported_system == "wgs84" and first.accepted

    # typed in from Amap: GCJ-02 numbers of the same place, declared as such
    gcj = from_wgs84(here[0] + 0.0002, here[1], "gcj02")
    page.fill("#checkin-form [name=lat]", f"{gcj[0]:.6f}")
    page.fill("#checkin-form [name=lon]", f"{gcj[1]:.6f}")
    page.select_option("#checkin-form [name=coord_system]", "gcj02")
    page.locator("#checkin-form button[type=submit]").click()
    for _ in range(100):
        if CheckIn.objects.count() == 2:
            break
        page.wait_for_timeout(100)
    second = CheckIn.objects.latest("id")
    assert second.pk != first.pk and second.reported_system == "gcj02" and "manual" in second.flags
    assert second.distance_m is not None and 120 < second.distance_m < 150

    # a system the server does not know: the refusal names the field (400), nothing recorded
    page.evaluate("""() => { const s = document.querySelector('#checkin-form [name=coord_system]');
        const o = document.createElement('option'); o.value = 'mars'; o.textContent = 'mars'; s.appendChild(o); s.value = 'mars'; }""")
    page.locator("#checkin-form button[type=submit]").click()
    page.wait_for_selector("#checkin-errors [data-field=coord_system]")
    assert CheckIn.objects.count() == 2
    assert [e for e in errors if "400" not in e] == []
    ctx.close()
