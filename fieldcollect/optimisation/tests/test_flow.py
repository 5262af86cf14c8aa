"""The capacitated-assignment kernel shared by allocation and strategy: feasible and optimal (brute force)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldcollect.optimisation import allocation
from fieldcollect.optimisation.flow import max_weight_assignment
from fieldcollect.optimisation.strategy import solvers


def brute_force(item: np.ndarray, bin: np.ndarray, weight: np.ndarray, n_items: int, capacity: np.ndarray) -> int:
    """Best total weight over every assignment (each item: one of its arcs or none)."""
    options = [[None, *np.flatnonzero(item == i).tolist()] for i in range(n_items)]
    best = 0
    for pick in itertools.product(*options):
        arcs = [k for k in pick if k is not None]
        used = np.bincount(bin[arcs], minlength=len(capacity)) if arcs else np.zeros(len(capacity), int)
        if np.all(used <= np.maximum(capacity, 0)):
            best = max(best, int(weight[arcs].sum()) if arcs else 0)
    return best


@st.composite
def instances(draw):
    n_items = draw(st.integers(0, 5))
    n_bins = draw(st.integers(1, 3))
    pairs = draw(st.lists(st.tuples(st.integers(0, max(n_items - 1, 0)), st.integers(0, n_bins - 1)),
                          max_size=12 if n_items else 0, unique=True))
    pairs.sort()
    weight = draw(st.lists(st.integers(-50, 100), min_size=len(pairs), max_size=len(pairs)))
    capacity = draw(st.lists(st.integers(-1, 3), min_size=n_bins, max_size=n_bins))
    return (np.array([p[0] for p in pairs], np.int64), np.array([p[1] for p in pairs], np.int64),
            np.array(weight, np.int64), n_items, np.array(capacity, np.int64))


@settings(max_examples=150, deadline=None)
@given(instances())
def test_assignment_is_feasible_and_optimal(instance):
    item, bin, weight, n_items, capacity = instance
    chosen, total = max_weight_assignment(item, bin, weight, n_items=n_items, capacity=capacity)
    assert chosen.shape == item.shape and chosen.dtype == bool
    assert total == int(weight[chosen].sum())
    assert np.bincount(item[chosen], minlength=n_items).max(initial=0) <= 1  # one arc per item at most
    assert np.all(np.bincount(bin[chosen], minlength=len(capacity)) <= np.maximum(capacity, 0))
    assert not np.any(chosen & (weight < 0))  # staying unassigned beats a loss
    assert total == brute_force(item, bin, weight, n_items, capacity)


def test_capacity_binds_on_the_best_arcs():
    # three cases want the one-slot agency 0; the best (case 1) gets it, the others go to agency 1 or nowhere
    item = np.array([0, 0, 1, 2], np.int64)
    bin = np.array([0, 1, 0, 0], np.int64)
    weight = np.array([50, 40, 90, 60], np.int64)
    chosen, total = max_weight_assignment(item, bin, weight, n_items=3, capacity=np.array([1, 5], np.int64))
    assert chosen.tolist() == [False, True, True, False]
    assert total == 130


def test_no_items():
    chosen, total = max_weight_assignment(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64),
                                          n_items=0, capacity=np.array([3], np.int64))
    assert chosen.shape == (0,) and total == 0


@pytest.mark.parametrize("module", [allocation, solvers])
def test_allocation_and_strategy_share_the_kernel(module):
    """One flow kernel: neither engine builds its own min-cost flow."""
    assert module.max_weight_assignment is max_weight_assignment
    assert "ortools.graph" not in Path(module.__file__).read_text(encoding="utf-8")
