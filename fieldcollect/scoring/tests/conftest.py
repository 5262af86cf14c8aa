"""Small seeded data sets and one fitted model shared by the scoring tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fieldcollect.scoring import RiskModel

# Real credit data copied into the repository (sources and licences in its README.md).
CREDIT_DATA = Path(__file__).resolve().parents[3] / "bench" / "data" / "credit"


def make_frame(n: int = 800, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Default risk rises with balance and with region 'north'; income and channel are noise."""
    rng = np.random.default_rng(seed)
    balance = rng.gamma(2.0, 500.0, n)
    income = rng.normal(40_000, 10_000, n)
    region = rng.choice(["north", "south", "east", "west"], n, p=[0.25, 0.35, 0.2, 0.2])
    channel = rng.choice(["app", "branch"], n)
    logit = -3.0 + 0.0025 * balance + 1.2 * (region == "north")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    frame = pd.DataFrame({"balance": balance, "income": income, "region": region, "channel": channel})
    frame.loc[rng.random(n) < 0.05, "income"] = np.nan
    frame.loc[rng.random(n) < 0.03, "region"] = None
    return frame, y


@pytest.fixture(scope="session")
def frame_and_target() -> tuple[pd.DataFrame, np.ndarray]:
    return make_frame()


@pytest.fixture(scope="session")
def fitted(frame_and_target: tuple[pd.DataFrame, np.ndarray]) -> RiskModel:
    X, y = frame_and_target
    return RiskModel(kind="auto", n_splits=3, random_state=0).fit(X, y)
