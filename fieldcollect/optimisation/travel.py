"""Travel-matrix providers for field-visit route planning.

A provider turns a list of points into integer travel times (seconds) and distances (metres).
The default estimates road travel from the great-circle distance: ``haversine × circuity ÷ speed``.
A road-network service (OSRM, a map vendor's matrix API, a cached table) can be plugged in by
implementing :class:`TravelMatrixProvider`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), metres."""

DEFAULT_CIRCUITY = 1.3
"""Road distance ÷ great-circle distance; 1.2–1.4 is typical for cities."""

DEFAULT_CITY_SPEED_KMH = 25.0
"""Average door-to-door speed in a Chinese city in the daytime, parking included."""


@dataclass(frozen=True, slots=True)
class LatLon:
    """A WGS-84 point in decimal degrees."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0) or not (-180.0 <= self.lon <= 180.0):
            raise ValueError(f"invalid coordinates: {self.lat}, {self.lon}")


@dataclass(frozen=True, slots=True)
class TravelMatrix:
    """Square matrices for a list of points, ``[from, to]``.

    Attributes
    ----------
    seconds
        Travel time in whole seconds (int64), zero diagonal.
    metres
        Road distance in whole metres (int64), zero diagonal.
    """

    seconds: npt.NDArray[np.int64] = field(compare=False)
    metres: npt.NDArray[np.int64] = field(compare=False)

    def __post_init__(self) -> None:
        if self.seconds.shape != self.metres.shape or self.seconds.ndim != 2:
            raise ValueError("seconds and metres must be square matrices of the same shape")
        if self.seconds.shape[0] != self.seconds.shape[1]:
            raise ValueError("matrices must be square")
        if (self.seconds < 0).any() or (self.metres < 0).any():
            raise ValueError("travel times and distances must be non-negative")
        if np.diag(self.seconds).any() or np.diag(self.metres).any():
            raise ValueError("a point must be zero seconds and metres from itself")


@runtime_checkable
class TravelMatrixProvider(Protocol):
    """Anything that can produce a :class:`TravelMatrix` for a sequence of points."""

    def matrix(self, points: Sequence[LatLon]) -> TravelMatrix:
        """Return the travel matrix between ``points`` (same order as given)."""
        ...


def haversine_m(a: LatLon, b: LatLon) -> float:
    """Great-circle distance in metres between two points."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp = p2 - p1
    dl = math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def haversine_matrix_m(points: Sequence[LatLon]) -> npt.NDArray[np.float64]:
    """Vectorised great-circle distances in metres (float64, symmetric, zero diagonal)."""
    lat = np.radians(np.array([p.lat for p in points], dtype=np.float64))
    lon = np.radians(np.array([p.lon for p in points], dtype=np.float64))
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    out: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return out


@dataclass(frozen=True, slots=True)
class HaversineProvider:
    """Great-circle distance × circuity, at a constant city speed.

    Parameters
    ----------
    circuity
        Road distance ÷ great-circle distance (default 1.3). Must be ≥ 1.
    speed_kmh
        Average door-to-door speed (default 25 km/h). Must be positive.
    """

    circuity: float = DEFAULT_CIRCUITY
    speed_kmh: float = DEFAULT_CITY_SPEED_KMH

    def __post_init__(self) -> None:
        if self.circuity < 1.0:
            raise ValueError("circuity must be at least 1")
        if self.speed_kmh <= 0:
            raise ValueError("speed_kmh must be positive")

    def matrix(self, points: Sequence[LatLon]) -> TravelMatrix:
        """Return rounded metres and seconds for every ordered pair of ``points``."""
        if not points:
            empty = np.zeros((0, 0), dtype=np.int64)
            return TravelMatrix(seconds=empty, metres=empty.copy())
        road_m = haversine_matrix_m(points) * self.circuity
        seconds = np.rint(road_m / (self.speed_kmh / 3.6)).astype(np.int64)
        metres = np.rint(road_m).astype(np.int64)
        np.fill_diagonal(seconds, 0)
        np.fill_diagonal(metres, 0)
        return TravelMatrix(seconds=seconds, metres=metres)


@dataclass(frozen=True, slots=True)
class TableProvider:
    """Looks travel up in a precomputed table keyed by point pairs (e.g. cached from a road router).

    Pairs missing from the table fall back to ``fallback`` (default: :class:`HaversineProvider`).

    Parameters
    ----------
    table
        ``{(from, to): (seconds, metres)}``.
    fallback
        Provider used for pairs not in the table.
    """

    table: dict[tuple[LatLon, LatLon], tuple[int, int]] = field(compare=False)
    fallback: TravelMatrixProvider = field(default_factory=HaversineProvider)

    def matrix(self, points: Sequence[LatLon]) -> TravelMatrix:
        """Return the table's values where known and the fallback's elsewhere."""
        base = self.fallback.matrix(points)
        seconds = base.seconds.copy()
        metres = base.metres.copy()
        for i, a in enumerate(points):
            for j, b in enumerate(points):
                if i != j and (a, b) in self.table:
                    seconds[i, j], metres[i, j] = self.table[(a, b)]
        return TravelMatrix(seconds=seconds, metres=metres)
