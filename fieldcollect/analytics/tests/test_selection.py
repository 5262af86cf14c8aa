"""Agency selection: weighted score and TOPSIS on hand-made candidates."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from fieldcollect.analytics.selection import (
    DEFAULT_CRITERIA,
    Criterion,
    topsis,
    weighted_score,
    with_weights,
)

CRITERIA = (
    Criterion("years", 1.0, "benefit"),
    Criterion("recovery", 2.0, "benefit"),
    Criterion("fee", 1.0, "cost"),
)


@pytest.fixture
def candidates() -> pl.DataFrame:
    return pl.DataFrame({
        "agency_id": ["A", "B", "C"],
        "years": [10.0, 5.0, 1.0],
        "recovery": [0.30, 0.40, 0.10],
        "fee": [0.20, 0.30, 0.35],
    })


def test_weighted_score_by_hand(candidates: pl.DataFrame) -> None:
    r = weighted_score(candidates=candidates, criteria=CRITERIA)
    scores = dict(zip(r.scores["agency_id"], r.scores["score"], strict=True))
    # weights 0.25 / 0.5 / 0.25; min-max: A years 1, recovery 2/3, fee 1 -> 25 + 33.33 + 25
    assert scores["A"] == pytest.approx(25 + 50 * 2 / 3 + 25)
    # B: years 4/9, recovery 1, fee 1/3
    assert scores["B"] == pytest.approx(25 * 4 / 9 + 50 + 25 / 3)
    assert scores["C"] == pytest.approx(0.0)
    assert r.scores["agency_id"].to_list() == ["A", "B", "C"]
    assert r.scores["rank"].to_list() == [1, 2, 3]


def test_contributions_add_up_to_score(candidates: pl.DataFrame) -> None:
    r = weighted_score(candidates=candidates, criteria=CRITERIA)
    sums = r.contributions.group_by("agency_id").agg(pl.col("contribution").sum()).sort("agency_id")
    by_score = r.scores.sort("agency_id")
    np.testing.assert_allclose(sums["contribution"].to_numpy(), by_score["score"].to_numpy())
    top = r.explain("B")
    assert top["criterion"][0] == "recovery"  # B's best criterion is its recovery rate


def test_editing_weights_changes_ranking(candidates: pl.DataFrame) -> None:
    heavy_recovery = with_weights(CRITERIA, {"recovery": 10.0})
    assert weighted_score(candidates=candidates, criteria=heavy_recovery).scores["agency_id"][0] == "B"
    with pytest.raises(KeyError):
        with_weights(CRITERIA, {"nope": 1.0})


def test_topsis_known_example() -> None:
    # the ideal candidate scores 1, the anti-ideal 0, and a dominated one sits between
    df = pl.DataFrame({"agency_id": [1, 2, 3], "years": [9.0, 3.0, 6.0], "recovery": [0.5, 0.1, 0.3],
                       "fee": [0.1, 0.4, 0.2]})
    r = topsis(candidates=df, criteria=CRITERIA)
    scores = dict(zip(r.scores["agency_id"], r.scores["score"], strict=True))
    assert scores[1] == pytest.approx(1.0)
    assert scores[2] == pytest.approx(0.0)
    assert 0 < scores[3] < 1
    shares = r.contributions.group_by("agency_id").agg(pl.col("contribution").sum(),
                                                       pl.col("gap_to_ideal_share").sum()).sort("agency_id")
    np.testing.assert_allclose(shares.filter(pl.col("agency_id") == 3)["contribution"], [1.0])
    np.testing.assert_allclose(shares.filter(pl.col("agency_id") == 3)["gap_to_ideal_share"], [1.0])


def test_topsis_matches_manual_computation(candidates: pl.DataFrame) -> None:
    x = candidates.select("years", "recovery", "fee").to_numpy()
    w = np.array([0.25, 0.5, 0.25])
    v = x / np.sqrt((x**2).sum(axis=0)) * w
    ideal = np.array([v[:, 0].max(), v[:, 1].max(), v[:, 2].min()])
    worst = np.array([v[:, 0].min(), v[:, 1].min(), v[:, 2].max()])
    dp = np.sqrt(((v - ideal) ** 2).sum(axis=1))
    dm = np.sqrt(((v - worst) ** 2).sum(axis=1))
    expected = dm / (dp + dm)
    got = topsis(candidates=candidates, criteria=CRITERIA).scores.sort("agency_id")["score"].to_numpy()
    np.testing.assert_allclose(got, expected)


def test_default_criteria_run_and_cost_direction() -> None:
    base = {c.name: [1.0, 1.0] for c in DEFAULT_CRITERIA}
    df = pl.DataFrame({"agency_id": ["cheap", "dear"], **base}).with_columns(
        pl.Series("fee_rate", [0.1, 0.3]))
    for method in (weighted_score, topsis):
        assert method(candidates=df).scores["agency_id"][0] == "cheap"


@pytest.mark.parametrize("change, message", [
    (lambda df: df.drop("fee"), "missing criterion column"),
    (lambda df: df.with_columns(pl.lit(None, pl.Float64).alias("fee")), "missing values"),
    (lambda df: df.with_columns(pl.lit("A").alias("agency_id")), "duplicate"),
])
def test_bad_input(candidates: pl.DataFrame, change, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        weighted_score(candidates=change(candidates), criteria=CRITERIA)


def test_negative_weight_rejected(candidates: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="weight"):
        topsis(candidates=candidates, criteria=with_weights(CRITERIA, {"fee": -1.0}))
