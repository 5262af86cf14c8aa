"""The random allocation instances of the property tests, drawn by Hypothesis."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def draw_pairs(
    draw: Any, *, max_cases: int, max_agencies: int, max_pairs: int, max_capacity: int
) -> tuple[int, list[tuple[int, int]], list[int], list[int]]:
    """Inside a ``@st.composite`` strategy: ``n`` cases (at least one), the distinct (case, agency) pairs
    (at least one) over them and up to ``max_agencies`` agencies, a value from -30 to 100 fen per pair
    and a capacity per agency."""
    n = draw(st.integers(1, max_cases))
    m = draw(st.integers(1, max_agencies))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, m - 1)), min_size=1,
                          max_size=max_pairs, unique=True))
    values = draw(st.lists(st.integers(-30, 100), min_size=len(pairs), max_size=len(pairs)))
    caps = draw(st.lists(st.integers(0, max_capacity), min_size=m, max_size=m))
    return n, pairs, values, caps
