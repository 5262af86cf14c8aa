"""The weekly QA queue: every risk contact, a seeded random share per collector, reproducible whatever
the input order, double scoring marked; Cohen's kappa against a hand computation."""

from __future__ import annotations

import random

import pytest

from fieldcollect.analytics.conduct.sampling import Contact, cohen_kappa, weekly_queue


def contacts() -> list[Contact]:
    rows = []
    for col in ("c1", "c2", "c3"):
        for i in range(100 if col != "c3" else 3):
            triggers = ("complaint",) if (col, i) == ("c1", 7) else ("automatic_finding", "short_visit") if (col, i) == ("c2", 50) else ()
            rows.append(Contact(f"{col}-{i:03d}", col, triggers))
    return rows


def test_risk_contacts_are_all_in_and_each_collector_is_sampled() -> None:
    q = weekly_queue(contacts(), week="2026-W49", seed=7, share=0.05, double_share=0.2)
    reasons = {i.contact_id: i.reason for i in q}
    assert reasons["c1-007"] == "complaint" and reasons["c2-050"] == "automatic_finding"
    per = {c: sum(1 for i in q if i.collector_id == c and i.reason == "random") for c in ("c1", "c2", "c3")}
    assert per == {"c1": 5, "c2": 5, "c3": 1}  # ceil(5 % of 100) each; the small one at least one
    assert sum(i.double for i in q) == round(0.2 * len(q))


def test_reproducible_and_order_free_but_seed_and_week_matter() -> None:
    rows = contacts()
    a = weekly_queue(rows, week="2026-W49", seed=7)
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    assert weekly_queue(shuffled, week="2026-W49", seed=7) == a
    assert weekly_queue(rows, week="2026-W49", seed=8) != a
    assert weekly_queue(rows, week="2026-W50", seed=7) != a


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown triggers"):
        weekly_queue([Contact("x", "c", ("rumour",))], week="w", seed=1)
    with pytest.raises(ValueError):
        weekly_queue([], week="w", seed=1, share=2)


def test_kappa() -> None:
    # 10 items: agree on 8 (5 pass, 3 fail); p_o = 0.8; reviewer A 6 pass/4 fail, B 6 pass/4 fail
    a = ["pass"] * 5 + ["fail"] * 3 + ["pass", "fail"]
    b = ["pass"] * 5 + ["fail"] * 3 + ["fail", "pass"]
    p_e = 0.6 * 0.6 + 0.4 * 0.4
    assert cohen_kappa(a, b) == pytest.approx((0.8 - p_e) / (1 - p_e))
    assert cohen_kappa(["pass"], ["fail"]) is None
    assert cohen_kappa(["pass", "pass"], ["pass", "pass"]) == 1.0
    assert cohen_kappa(["pass", "fail"], ["fail", "pass"]) == pytest.approx(-1.0)
