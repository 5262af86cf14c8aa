"""Travel-matrix providers."""

from __future__ import annotations

import numpy as np
import pytest

from fieldcollect.optimisation.travel import (
    HaversineProvider,
    LatLon,
    TableProvider,
    TravelMatrix,
    TravelMatrixProvider,
    haversine_m,
)

BEIJING = LatLon(39.9042, 116.4074)
SHANGHAI = LatLon(31.2304, 121.4737)
CHENGDU_TIANFU_SQUARE = LatLon(30.6571, 104.0657)


def test_haversine_known_distances() -> None:
    assert haversine_m(BEIJING, SHANGHAI) == pytest.approx(1_067_000, rel=0.005)
    # One degree of latitude is about 111.2 km.
    assert haversine_m(LatLon(30.0, 104.0), LatLon(31.0, 104.0)) == pytest.approx(111_195, rel=0.001)
    assert haversine_m(BEIJING, BEIJING) == 0.0


def test_default_provider_is_haversine_times_circuity_over_speed() -> None:
    p = HaversineProvider()
    assert isinstance(p, TravelMatrixProvider)
    a, b = CHENGDU_TIANFU_SQUARE, LatLon(30.6571 + 0.09, 104.0657)  # ~10 km north
    m = p.matrix([a, b, a])
    d = haversine_m(a, b)
    assert m.metres[0, 1] == round(d * 1.3)
    assert m.seconds[0, 1] == round(d * 1.3 / (25 / 3.6))  # ~31 minutes for 13 km of road
    assert 1700 < m.seconds[0, 1] < 2000
    assert (m.seconds == m.seconds.T).all() and np.diag(m.seconds).sum() == 0
    assert m.seconds[0, 2] == 0  # same point twice
    assert m.seconds.dtype == np.int64


def test_provider_parameters_scale_times() -> None:
    pts = [CHENGDU_TIANFU_SQUARE, LatLon(30.60, 104.10)]
    base = HaversineProvider().matrix(pts).seconds[0, 1]
    assert HaversineProvider(speed_kmh=50).matrix(pts).seconds[0, 1] == pytest.approx(base / 2, abs=1)
    assert HaversineProvider(circuity=2.6).matrix(pts).seconds[0, 1] == pytest.approx(base * 2, abs=1)
    with pytest.raises(ValueError):
        HaversineProvider(circuity=0.9)
    with pytest.raises(ValueError):
        HaversineProvider(speed_kmh=0)


def test_table_provider_overrides_pairs() -> None:
    a, b = CHENGDU_TIANFU_SQUARE, LatLon(30.60, 104.10)
    m = TableProvider(table={(a, b): (999, 4321)}).matrix([a, b])
    assert (m.seconds[0, 1], m.metres[0, 1]) == (999, 4321)
    assert m.seconds[1, 0] == HaversineProvider().matrix([a, b]).seconds[1, 0]


def test_matrix_and_point_validation() -> None:
    with pytest.raises(ValueError):
        LatLon(91.0, 0.0)
    with pytest.raises(ValueError):
        TravelMatrix(seconds=np.array([[0, -1], [1, 0]]), metres=np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(ValueError):
        TravelMatrix(seconds=np.ones((2, 2), dtype=np.int64), metres=np.ones((2, 2), dtype=np.int64))
    assert HaversineProvider().matrix([]).seconds.shape == (0, 0)
