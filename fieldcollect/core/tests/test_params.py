"""The query-parameter helpers (fieldcollect.core.params): hostile values are refused with a 400 naming the
parameter, good values parse; the pages of issue 17 that answered 500 now answer 400."""

from __future__ import annotations

from datetime import date

import pytest

from fieldcollect.core import params
from fieldcollect.core.models import Role
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in


class P(params.QueryForm):
    n = params.IntParam(min_value=0, max_value=100_000)
    id = params.IdParam()
    amount = params.YuanParam()
    day = params.DateParam()
    month = params.MonthParam()
    text = params.TextParam(max_length=20)
    share = params.ShareParam()
    flag = params.FlagParam()
    week = params.WeekParam()


HOSTILE = {
    "n": ["Infinity", "NaN", "1e309", "9" * 20, "9" * 400, "-1", "²", "٣", "６", "1.5", "x" * 10_000],
    "id": ["0", "-5", "9" * 20, "²", "٣", "６", "1e3", "abc"],
    "amount": ["Infinity", "-Infinity", "NaN", "1e309", "9" * 400, "-1", "0.001", "²", "x" * 10_000],
    "day": ["2026-02-30", "0001-01-01", "9999-12-31", "2026-13-01", "x" * 10_000, "٢٠٢٦-٠١-٠١"],
    "month": ["2026-13", "2026-00", "0-1", "9" * 400 + "-1", "٢٠٢٦-٠١", "2026"],
    "text": ["x" * 21, "a\x00b"],
    "share": ["1.5", "-0.1", "NaN", "Infinity"],
    "week": ["2026-W60", "2026-W00", "2025-W53", "2026-49", "9999-W01", "٢٠٢٦-W01", "x" * 10_000, "2026-W1x"],
}


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, vs in HOSTILE.items() for v in vs])
def test_hostile_values_are_refused_naming_the_parameter(name, value):
    with pytest.raises(params.InvalidParameters) as exc:
        P.parse({name: value})
    assert exc.value.status_code == 400
    assert set(exc.value.extra) == {name}
    assert name in exc.value.message


def test_good_values_parse_and_absent_ones_are_empty():
    got = P.parse({"n": " 42 ", "id": "7", "amount": "5000.50", "day": "2026-02-28", "month": "2026-02",
                   "text": " 杭州 ", "share": "0.25", "flag": "on", "week": "2026-W49"})
    assert got == {"n": 42, "id": 7, "amount": 500_050, "day": date(2026, 2, 28), "month": date(2026, 2, 1),
                   "text": "杭州", "share": pytest.approx(0.25), "flag": True, "week": date(2026, 11, 30)}
    assert P.parse({"week": "2020-W53"})["week"] == date(2020, 12, 28)  # a year with 53 weeks
    assert P.parse({}) == {"n": None, "id": None, "amount": None, "day": None, "month": None, "text": "",
                           "share": None, "flag": False, "week": None}


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["amount_min=Infinity", "amount_max=NaN", "dpd_min=" + "9" * 20, "agency=²",
                                   "collector=" + "9" * 20, "city=" + "x" * 1000])
def test_case_list_answers_bad_filters_with_400(query):
    user = f.make_user(role=Role.COLLECTIONS_MANAGER)
    client = logged_in(user)
    resp = client.get(f"/cases/?{query}")
    assert resp.status_code == 400
    assert query.split("=")[0] in resp.content.decode()
    assert client.get("/cases/?dpd_min=30&amount_min=100.50&agency=&collector=none").status_code == 200
