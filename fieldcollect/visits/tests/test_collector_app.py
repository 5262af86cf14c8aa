"""The collector's phone app at ``/app/``: who gets the page, its headers (CSP kept, the phone's sensors
allowed only here), the manifest that makes it installable, the service worker and the files it keeps,
the vendored IndexedDB library, and the report form's rule on who was met."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import translation

from fieldcollect.core.models import Role
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in
from fieldcollect.visits import app_views
from fieldcollect.visits.services.reports import met_allows

pytestmark = pytest.mark.django_db
STATIC = Path(app_views.__file__).resolve().parents[1] / "static" / "fieldcollect"


def _config(response) -> dict:
    m = re.search(r'<script id="app-config" type="application/json">(.*?)</script>', response.content.decode())
    assert m is not None
    return json.loads(m.group(1))


def test_the_page_is_for_field_collectors_only(vw):
    assert Client().get("/app/").status_code == 302
    assert Client().get("/app/")["Location"].startswith("/accounts/login/")
    manager = logged_in(vw.manager)
    assert manager.get("/app/").status_code == 403
    bank = logged_in(f.make_user(role=Role.COLLECTIONS_MANAGER))
    assert bank.get("/app/").status_code == 403
    # an agency user with the collector role but no collector record is refused too
    assert logged_in(f.make_user(role=Role.FIELD_COLLECTOR, agency=vw.agency)).get("/app/").status_code == 403
    ok = logged_in(vw.user1).get("/app/")
    assert ok.status_code == 200
    assert logged_in(vw.user1).post("/app/").status_code == 405


def test_page_headers_keep_the_csp_and_allow_the_phone_sensors_here_only(vw):
    page = logged_in(vw.user1).get("/app/")
    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp and "unsafe-eval" not in csp
    policy = page["Permissions-Policy"]
    for sensor in ("camera", "microphone", "geolocation"):
        assert f"{sensor}=(self)" in policy
    assert "Content-Security-Policy" in page and page["Cache-Control"] == "no-store"
    # every other page keeps the strict policy
    other = logged_in(vw.user1).get("/visits/day/")
    assert "camera=()" in other["Permissions-Policy"] and "microphone=()" in other["Permissions-Policy"]


def test_page_links_the_manifest_and_loads_only_this_origins_modules(vw):
    html = logged_in(vw.user1).get("/app/").content.decode()
    assert '<link rel="manifest" href="/app/manifest.webmanifest">' in html
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts == ['<script type="module" src="/static/fieldcollect/app/main.js">',
                       '<script id="app-config" type="application/json">']
    assert "http://" not in html and "https://" not in html  # no CDN


def test_page_passes_its_strings_in_the_users_language(vw):
    with translation.override("en"):
        english = {k: str(v) for k, v in app_views._strings().items()}
    zh = _config(logged_in(vw.user1).get("/app/"))
    assert zh["user"] == vw.user1.pk and zh["collector"] == vw.c1.pk
    assert zh["strings"]["today"] == "今日路线" and zh["strings"]["met_third_party"] == "其他第三方"
    client = logged_in(vw.user1)
    client.cookies["django_language"] = "en"
    en = _config(client.get("/app/"))
    assert en["strings"] == english and en["strings"]["today"] == "Today's route"
    assert set(zh["strings"]) == set(en["strings"])
    assert zh["urls"] == {"field": "/api/v1/field", "today": "/api/v1/field/today", "sync": "/api/v1/field/sync",
                          "uploads": "/api/v1/field/uploads", "sw": "/app/sw.js", "scope": "/app/"}


def test_strings_used_by_the_scripts_are_all_given():
    """Every ``S.name`` the scripts read is one of the page's strings (and no string is unused)."""
    source = "".join(p.read_text() for p in (STATIC / "app").glob("*.js"))
    used = set(re.findall(r"\bS\.(\w+)", source))
    dynamic = {f"met_{m}" for m in app_views.MET} | {f"identity_{c}" for c in app_views.IDENTITY_CHECKS} \
        | {f"state_{s}" for s in ("waiting", "sent", "refused")} | {"amap", "baidu", "apple"}
    given = set(app_views._strings())
    assert used <= given, used - given
    assert given <= used | dynamic, given - used - dynamic


def test_manifest_makes_the_app_installable():
    resp = Client().get("/app/manifest.webmanifest")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/manifest+json"
    data = json.loads(resp.content)
    assert data["start_url"] == "/app/" and data["scope"] == "/app/" and data["display"] == "standalone"
    assert data["name"] and data["short_name"]
    sizes = set()
    for icon in data["icons"]:
        assert icon["type"] == "image/png" and icon["src"].startswith("/static/")
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path is not None
        raw = Path(path).read_bytes()
        assert raw[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", raw[16:24])
        assert icon["sizes"] == f"{width}x{height}"
        sizes.add(width)
    assert {192, 512} <= sizes


def test_service_worker_is_served_with_the_apps_scope_and_lists_existing_files():
    resp = Client().get("/app/sw.js")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/javascript")
    assert resp["Service-Worker-Allowed"] == "/app/"
    assert "no-cache" in resp["Cache-Control"] or "max-age=0" in resp["Cache-Control"]
    body = resp.content.decode()
    assert "__VERSION__" not in body and "__FILES__" not in body
    files = json.loads(re.search(r"const FILES = (\[.*?\]);", body).group(1))
    assert "/static/fieldcollect/app/main.js" in files and "/static/fieldcollect/vendor/idb/idb.js" in files
    assert "/static/fieldcollect/app/sw.js" not in files
    for url in files:
        assert finders.find(url.removeprefix("/static/")) is not None, url
    version = re.search(r'const VERSION = "([0-9a-f]{16})";', body)
    assert version is not None


def test_service_worker_version_follows_the_files(tmp_path, monkeypatch):
    files = app_views._shell_files()
    before = app_views._version(files)
    copy = tmp_path / "static"
    for name in (*files, "fieldcollect/app/sw.js"):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes((app_views.STATIC / name).read_bytes())
    monkeypatch.setattr(app_views, "STATIC", copy)
    assert app_views._version(files) == before
    (copy / "fieldcollect/app/main.js").write_text("// changed\n", encoding="utf-8")
    assert app_views._version(files) != before


def test_idb_is_vendored_with_its_licence_and_version():
    folder = STATIC / "vendor" / "idb"
    assert "ISC" in (folder / "LICENSE").read_text() or "Permission to use" in (folder / "LICENSE").read_text()
    assert re.search(r"idb \d+\.\d+\.\d+", (folder / "VERSION").read_text())
    assert "export { deleteDB, openDB, unwrap, wrap }" in (folder / "idb.js").read_text()
    # the app imports it by a relative path, no bare module name (no bundler, no CDN)
    assert 'from "../vendor/idb/idb.js"' in (STATIC / "app" / "store.js").read_text()


def test_the_report_form_follows_the_one_rule_on_who_was_met(vw):
    """The form is built from ``met_allows`` under the packs of the collector's cases: under the CN pack
    nothing about paying is recorded for a family member or another third party (no promise, no payment
    outcome, no repayment code), and an empty door has only the empty door's outcomes."""
    outcomes, discuss = app_views.report_form_rules(vw.user1)
    assert discuss == ["debtor"]
    values = {met: [v for v, _label in options] for met, options in outcomes.items()}
    assert values["third_party"] == values["family"] == ["not_home", "moved", "wrong_address", "third_party_met"]
    assert values["nobody"] == ["not_home", "moved", "wrong_address"]
    assert {"paid", "promise", "hardship", "refused", "dispute"} <= set(values["debtor"])
    assert "third_party_met" not in values["debtor"]
    for met, allowed in values.items():
        rule = met_allows(met=met, may_discuss_debt=False)
        assert rule is None or set(allowed) <= rule, met
    # the page gives the same to the phone
    config = _config(logged_in(vw.user1).get("/app/"))
    assert config["may_discuss_debt"] == ["debtor"]
    assert [v for v, _ in config["outcomes"]["third_party"]] == values["third_party"]


def test_where_a_pack_lets_third_parties_hear_of_the_debt_the_form_does_too(vw, monkeypatch):
    monkeypatch.setattr(app_views, "third_party_may_discuss_debt", lambda pack: True)
    outcomes, discuss = app_views.report_form_rules(vw.user1)
    assert discuss == ["debtor", "family", "third_party"]
    assert "promise" in [v for v, _ in outcomes["family"]]
    assert [v for v, _ in outcomes["nobody"]] == ["not_home", "moved", "wrong_address"]
    # a collector with no case at all gets the strict form
    lonely, _collector = f.make_collector_user(agency=vw.agency)
    assert app_views.report_form_rules(lonely)[1] == ["debtor"]
