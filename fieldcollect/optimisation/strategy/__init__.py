"""Treatment strategy engine: one treatment per delinquent case under channel capacities.

Each case ``i`` gets exactly one treatment ``t`` (``none``, ``sms``, ``call``, ``visit``,
``restructure``, ``legal`` by default).  Its expected net value, in fen, is::

    value[i, t] = round(p[i, t] * recovery_share[t] * amount[i]) - cost[t]

and the optimiser maximises the total value, which is the same as maximising the total value
*incremental over "none"* because every case contributes its "none" value whatever happens.
An optional complaint penalty (fen per expected complaint) is subtracted in the objective, and a
budget on the expected number of complaints is met by Lagrangian bisection on that penalty.

Constraints
    * compliance: a boolean case × treatment mask; a blocked treatment is never chosen
      ("none" can never be blocked);
    * capacities: a limit per treatment, either global (``city=None``) or per city.  A treatment
      with per-city limits is unavailable in a city that has no limit of its own (no field team
      there).  A treatment without any limit is unlimited.

The problem is a transportation problem (cases → capacity pools → sink), solved exactly as a
min-cost flow with OR-Tools (``method="flow"``, the default) or as an LP with GLOP
(``method="lp"``; the constraint matrix is totally unimodular, so the LP optimum is integral).
Before the flow is built, every case keeps only the capacitated options that beat its best
unlimited option, which makes 500,000 cases a matter of seconds.

Shadow prices (fen per unit of capacity) are recovered from the optimal assignment as the
smallest dual prices consistent with it (longest paths in the small graph of pools), and each
case's explanation names its best alternative and why it was not chosen (compliance block,
capacity price, or simply lower value).

Example
-------
>>> import numpy as np
>>> b = StrategyBuilder(costs={"none": 0, "sms": 10, "call": 300, "visit": 8000,
...                            "restructure": 2000, "legal": 30000})
>>> _ = b.add_cases(case_ids=np.array([1, 2]), amounts_fen=np.array([800_000, 50_000]),
...             cities=np.array(["成都", "成都"]),
...             propensity=np.tile([0.1, 0.15, 0.2, 0.5, 0.3, 0.35], (2, 1)))
>>> _ = b.set_capacity(treatment="visit", city="成都", limit=1)
>>> result = solve(b.build())
>>> result.treatments().tolist()
['visit', 'restructure']

Modules: :mod:`~fieldcollect.optimisation.strategy.problem` (treatments, builder, problem, result),
:mod:`~fieldcollect.optimisation.strategy.solvers` (flow, LP, duals) and
:mod:`~fieldcollect.optimisation.strategy.experiments` (strategies, champion/challenger).
"""

from fieldcollect.optimisation.strategy.experiments import (
    ExperimentAssignment,
    RandomStrategy,
    Rule,
    RuleStrategy,
    Strategy,
    champion_challenger,
    optimised_strategy,
    split_arms,
)
from fieldcollect.optimisation.strategy.problem import (
    REASONS,
    TREATMENT_LABELS_ZH,
    TREATMENTS,
    Capacity,
    Explanation,
    StrategyBuilder,
    StrategyError,
    StrategyProblem,
    StrategyResult,
)
from fieldcollect.optimisation.strategy.solvers import Method, solve

__all__ = [
    "REASONS",
    "TREATMENTS",
    "TREATMENT_LABELS_ZH",
    "Capacity",
    "ExperimentAssignment",
    "Explanation",
    "Method",
    "RandomStrategy",
    "Rule",
    "RuleStrategy",
    "Strategy",
    "StrategyBuilder",
    "StrategyError",
    "StrategyProblem",
    "StrategyResult",
    "champion_challenger",
    "optimised_strategy",
    "solve",
    "split_arms",
]
