from __future__ import annotations

import numpy as np

from fieldcollect.scoring import psi, stability_status
from fieldcollect.scoring.tests.conftest import make_frame


def test_psi_zero_for_same_distribution_and_large_for_shift() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(0, 1, 20_000)
    same = rng.normal(0, 1, 20_000)
    shifted = rng.normal(1.0, 1, 20_000)
    assert psi(base, base) < 1e-9
    assert psi(base, same) < 0.01
    assert psi(base, shifted) > 0.25
    assert stability_status(psi(base, same)) == "stable"
    assert stability_status(psi(base, shifted)) == "significant"
    assert stability_status(0.15) == "moderate"


def test_model_stability_flags_the_shifted_characteristic(fitted) -> None:
    current, _ = make_frame(n=2000, seed=5)
    report = fitted.stability(current)
    assert report.score_status == "stable"
    assert all(c.status == "stable" for c in report.characteristics)
    shifted = current.assign(balance=current["balance"] * 2.5)
    report = fitted.stability(shifted)
    by_name = {c.name: c for c in report.characteristics}
    assert by_name["balance"].status == "significant"
    assert by_name["region"].status == "stable"
    assert report.score_psi > 0.1
    assert report.shifted[0].name == "balance"
    assert report.to_dict()["characteristics"][0]["name"] == "balance"
