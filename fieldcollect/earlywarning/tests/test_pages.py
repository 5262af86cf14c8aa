"""The pages render for bank users in both languages; model cards carry their charts; dashboards' selector."""

from __future__ import annotations

import json
import re

import pytest

from fieldcollect.earlywarning import selectors
from fieldcollect.earlywarning.models import WarningList

pytestmark = pytest.mark.django_db


def get(client, url, lang, params=None):
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    return client.get(url, params or {})


def charts(html: str) -> dict[str, dict]:
    found = re.findall(r'<script type="application/json" data-chart="chart-([\w-]+)">(.*?)</script>', html, re.S)
    return {name: json.loads(body) for name, body in found}


def test_model_cards_selector_for_dashboards(nightly):
    cards = selectors.model_cards()
    assert [c["purpose"] for c in cards] == ["early_warning"]
    card = cards[0]
    assert card["champion"] and card["version"] == "v0001"
    assert 0.5 < card["auc"] <= 1 and 0 < card["ks"] <= 1 and 0 <= card["brier"] < 1
    assert len(card["training_sha256"]) == 64 and card["features"]
    assert card["drift"] and card["drift"][-1]["score_psi"] is not None and card["latest_psi_status"] in {"stable", "moderate", "significant"}


@pytest.mark.parametrize(("lang", "words"), [("en", ["Model card", "Calibration", "Features"]),
                                             ("zh-hans", ["模型卡", "特征"])])
def test_model_card_page(bank_client, nightly, lang, words):
    resp = get(bank_client, "/earlywarning/models/early_warning/", lang)
    html = resp.content.decode()
    assert resp.status_code == 200
    for w in words:
        assert w in html
    figs = charts(html)
    assert {"calibration", "drift", "csi"} <= set(figs)
    assert all(f["data"] for f in figs.values())
    assert "vendor/plotly/plotly.min.js" in html
    card = selectors.model_card("early_warning")
    assert card is not None and card["training_sha256"] in html
    assert get(bank_client, "/earlywarning/models/", lang).status_code == 200
    assert bank_client.get("/earlywarning/models/early_warning/v0009/").status_code == 404


def test_warning_list_in_both_languages_with_filters(bank_client, nightly):
    wl = WarningList.objects.get()
    top = wl.entries.order_by("rank").first()
    assert top is not None
    en = get(bank_client, "/earlywarning/", "en").content.decode()
    assert "Early-warning list" in en and top.reasons_en in en.replace("&#x27;", "'")
    zh = get(bank_client, "/earlywarning/", "zh-hans").content.decode()
    assert "预警名单" in zh and top.reasons_zh in zh
    assert "histogram" in charts(en)
    city = top.city
    filtered = get(bank_client, "/earlywarning/", "en", {"city": city}).content.decode()
    rows = re.findall(r"<tr>\s*<td class=\"num\">\d+</td><td><a [^>]+>\d+</a></td><td>([^<]*)</td>", filtered)
    assert rows and set(rows) == {city}
    high = get(bank_client, "/earlywarning/", "en", {"band": "high"})
    assert high.status_code == 200


def test_experiments_page(bank_client, fc_home):
    resp = get(bank_client, "/earlywarning/experiments/", "en")
    html = resp.content.decode()
    assert resp.status_code == 200
    results = selectors.experiment_results()
    if results:  # the repository's strategy benchmark
        assert "Uplift" in html and any(k.startswith("uplift") for k in charts(html))
        arm = results[0]["arms"][0]
        assert arm["ci_low"] <= arm["uplift_cny"] <= arm["ci_high"]
        if results[0]["ab"]:
            assert "Randomised champion/challenger experiment" in html
            assert all(r["ci_low"] <= r["uplift"] <= r["ci_high"] for r in results[0]["ab"])
    zh = get(bank_client, "/earlywarning/experiments/", "zh-hans").content.decode()
    assert "实验" in zh


def test_empty_states(bank_client, fc_home):
    assert "no-list" in bank_client.get("/earlywarning/").content.decode()
    assert "no-models" in bank_client.get("/earlywarning/models/").content.decode()
    assert bank_client.get("/earlywarning/models/early_warning/").status_code == 404


def test_agency_users_are_sent_away(client, fc_home):
    from fieldcollect.core.models import Role, User

    client.force_login(User.objects.create_user(username="fc", password="pw-123456789", role=Role.FIELD_COLLECTOR))
    for url in ("/earlywarning/", "/earlywarning/models/", "/earlywarning/experiments/"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/cases" in resp["Location"]


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_loan_page(bank_client, nightly, lang):
    top = WarningList.objects.get().entries.order_by("rank").first()
    assert top is not None
    html = get(bank_client, f"/earlywarning/loans/{top.loan_id}/", lang).content.decode()
    assert (top.reasons_zh if lang == "zh-hans" else top.reasons_en.replace("'", "&#x27;")) in html
    assert 'id="schedule"' in html and 'id="payments"' in html
    assert f"/earlywarning/loans/{top.loan_id}/" in get(bank_client, "/earlywarning/", lang).content.decode()
    assert get(bank_client, "/earlywarning/loans/999999/", lang).status_code == 404
