"""Capacitated assignment as a min-cost flow: the one kernel under allocation and strategy.

Items (cases) go to bins (agencies, channel capacity pools) along weighted arcs. Each item takes at
most one arc, bin ``j`` takes at most ``capacity[j]`` arcs, and the total weight of the arcs taken is
maximised. It is solved exactly with OR-Tools ``SimpleMinCostFlow`` on::

    source → item (cap 1) → bin (cost −weight, cap 1) → sink (cap capacity[j])

plus a zero-cost ``source → sink`` bypass, so that an item may stay unassigned (an arc with a
negative weight is never taken). :mod:`fieldcollect.optimisation.allocation` places cases with
agencies; :mod:`fieldcollect.optimisation.strategy` gives cases a capacitated treatment when it
beats their best unlimited one (the weight being that gain).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

__all__ = ["max_weight_assignment", "max_weight_sized_flow"]


def max_weight_assignment(
    item: IntArray, bin: IntArray, weight: IntArray, *, n_items: int, capacity: IntArray
) -> tuple[BoolArray, int]:
    """Maximum-weight assignment of items to capacitated bins.

    Parameters
    ----------
    item, bin, weight : arrays of the same length
        Arc ``k`` links item ``item[k]`` (``0 ≤ item[k] < n_items``) to bin ``bin[k]``
        (``0 ≤ bin[k] < len(capacity)``) with an integer ``weight[k]``.
    n_items : int
        Number of items.
    capacity : array
        Arcs each bin may take (a negative capacity counts as 0).

    Returns
    -------
    (chosen, total)
        ``chosen[k]`` is true for the arcs in the assignment; ``total`` is their total weight.

    Raises
    ------
    RuntimeError
        If the flow solver does not report an optimum.
    """
    if n_items == 0:
        return np.zeros(0, bool), 0
    # the same network as the sized flow with every item of size 1: one unit per item, at most one arc
    units, total = max_weight_sized_flow(item, bin, weight, size=np.ones(n_items, np.int64), capacity=capacity)
    return units > 0, total


def max_weight_sized_flow(
    item: IntArray, bin: IntArray, weight: IntArray, *, size: IntArray, capacity: IntArray
) -> tuple[IntArray, int]:
    """The transportation relaxation of sized items: item ``i`` supplies ``size[i]`` units, arc ``k``
    carries up to ``size[item[k]]`` units worth ``weight[k]`` each, bin ``j`` takes at most
    ``capacity[j]`` units; the total weight is maximised (same network as
    :func:`max_weight_assignment` with capacities ``size`` on the item side).

    Returns ``(units, total)``: the units on each arc and their total weight. An item may be split over
    several bins or placed in part: the caller checks whether the optimum is whole.
    """
    n_items = len(size)
    m = len(capacity)
    if n_items == 0 or not len(item):
        return np.zeros(len(item), np.int64), 0
    source, sink, first_item = 0, 1, 2
    first_bin = first_item + n_items
    i32 = np.int32
    supply = int(np.asarray(size, np.int64).sum())
    tails = np.concatenate([
        np.zeros(n_items, i32), (first_item + item).astype(i32), (first_bin + np.arange(m)).astype(i32),
        np.array([source], i32),
    ])
    heads = np.concatenate([
        (first_item + np.arange(n_items)).astype(i32), (first_bin + bin).astype(i32), np.full(m, sink, i32),
        np.array([sink], i32),
    ])
    caps = np.concatenate([np.asarray(size, np.int64), np.asarray(size, np.int64)[item],
                           np.maximum(capacity, 0).astype(np.int64), np.array([supply], np.int64)])
    costs = np.concatenate([np.zeros(n_items, np.int64), -np.asarray(weight, np.int64), np.zeros(m + 1, np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    flow.set_node_supply(source, supply)
    flow.set_node_supply(sink, -supply)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    units = np.asarray(flow.flows(np.arange(n_items, n_items + len(weight))), np.int64)
    return units, -int(flow.optimal_cost())
