"""The tile provider setting (MAP_TILES): validation, the hosts added to the CSP, the start-up check."""

from __future__ import annotations

import pytest

from fieldcollect.core.maptiles import check_map_tiles, tile_config, tile_origins, validate

AMAP = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
TIANDITU = ("https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec"
            "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY")


def test_no_url_no_provider():
    assert validate({}) is None
    assert validate({"url": "  ", "system": "gcj02"}) is None
    assert tile_origins(None) == []


def test_amap_gcj02_one_origin_per_subdomain():
    config = validate({"url": AMAP, "system": "GCJ02", "subdomains": "1234", "attribution": "© AutoNavi"})
    assert config is not None and config["system"] == "gcj02" and config["maxZoom"] == 18
    assert tile_origins(config) == [f"https://webrd0{n}.is.autonavi.com" for n in "1234"]


def test_tianditu_wgs84_and_a_port():
    config = validate({"url": TIANDITU, "subdomains": "01234567", "max_zoom": "17"})
    assert config is not None and config["system"] == "wgs84" and config["maxZoom"] == 17
    assert len(tile_origins(config)) == 8
    local = validate({"url": "http://127.0.0.1:8123/{z}/{x}/{y}.png"})
    assert tile_origins(local) == ["http://127.0.0.1:8123"]


@pytest.mark.parametrize(("raw", "named"), [
    ({"url": "ftp://tiles.example/{z}/{x}/{y}.png"}, "MAP_TILES_URL"),
    ({"url": "/tiles/{z}/{x}/{y}.png"}, "MAP_TILES_URL"),
    ({"url": "https://tiles.example/{z}/{x}.png"}, "MAP_TILES_URL"),
    ({"url": "https://tiles.example/{z}/{x}/{y}.png", "system": "bd09"}, "MAP_TILES_SYSTEM"),
    ({"url": "https://tiles.example/{z}/{x}/{y}.png", "system": "mars"}, "MAP_TILES_SYSTEM"),
    ({"url": "https://tiles.example/{z}/{x}/{y}.png", "max_zoom": "high"}, "MAP_TILES_MAX_ZOOM"),
])
def test_wrong_settings_are_named(raw, named):
    with pytest.raises(ValueError, match=named):
        validate(raw)


def test_system_check_and_csp(settings, client, db):
    settings.MAP_TILES = {"url": "https://tiles.example/{z}/{x}/{y}.png", "system": "mars"}
    errors = check_map_tiles(None)
    assert len(errors) == 1 and "MAP_TILES_SYSTEM" in errors[0].msg
    # a wrong setting widens nothing
    assert "tiles.example" not in client.get("/accounts/login/")["Content-Security-Policy"]
    settings.MAP_TILES = {"url": "https://a{s}.tiles.example/{z}/{x}/{y}.png", "subdomains": "12"}
    assert check_map_tiles(None) == [] and tile_config() is not None
    csp = client.get("/accounts/login/")["Content-Security-Policy"]
    img_src = next(d for d in csp.split("; ") if d.startswith("img-src")).split()
    assert img_src == ["img-src", "'self'", "data:", "blob:", "https://a1.tiles.example", "https://a2.tiles.example"]
    other = [d for d in csp.split("; ") if not d.startswith("img-src")]
    assert not any("tiles.example" in d for d in other)
