"""Restructuring options: schedules, costs, the bank's PV loss and expected recovery."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldcollect.plans.options import (
    HardshipCase,
    HolidayInterest,
    OptionKind,
    OptionNotFeasible,
    RestructureOption,
    RestructurePolicy,
    best_option,
    compare_options,
    current_contract,
    lower_instalment,
    original_flows,
    payment_holiday,
    restructuring_options,
    settlement,
    term_extension,
    waiver,
)
from fieldcollect.plans.schedule import Method, amortise, level_payment_fen, present_value_fen

AS_OF = date(2026, 6, 30)


def make_case(**overrides: object) -> HardshipCase:
    """Lost his job: 8 instalments left on 8000 CNY at 18 %, 2220 CNY in arrears."""
    base: dict[str, object] = {
        "reason": "job_loss",
        "monthly_income_fen": 400_000,
        "monthly_expenses_fen": 250_000,
        "outstanding_principal_fen": 800_000,
        "arrears_principal_fen": 180_000,
        "arrears_interest_fen": 30_000,
        "arrears_penalty_fen": 12_000,
        "remaining_term_months": 8,
        "annual_rate": Decimal("0.18"),
        "as_of": AS_OF,
    }
    base.update(overrides)
    return HardshipCase(**base)  # type: ignore[arg-type]


def test_case_totals_and_validation() -> None:
    case = make_case()
    assert case.total_owed_fen == 1_022_000
    assert case.disposable_income_fen == 150_000
    with pytest.raises(ValueError):
        make_case(arrears_penalty_fen=-1)
    with pytest.raises(ValueError):
        make_case(outstanding_principal_fen=0, arrears_principal_fen=0, arrears_interest_fen=0, arrears_penalty_fen=0)
    with pytest.raises(ValueError):
        make_case(remaining_term_months=0)


def test_original_flows_are_arrears_now_then_the_contract() -> None:
    flows = original_flows(make_case())
    assert flows[0] == (0, 222_000)
    assert [t for t, _ in flows] == list(range(9))
    assert sum(c for _, c in flows[1:]) - 800_000 == sum(
        i.interest_fen for i in amortise(principal_fen=800_000, annual_rate=Decimal("0.18"), term_months=8,
                                         method=Method.EQUAL_INSTALMENT, start=AS_OF)
    )


def test_current_contract_is_the_zero_loss_baseline() -> None:
    case = make_case()
    o = current_contract(case)
    assert o.bank_loss_pv_fen == 0
    assert o.pv_new_fen == o.pv_original_fen
    assert o.total_cost_fen == o.original_cost_fen
    assert o.schedule.instalments[0].payment_fen == 222_000
    assert o.affordable is False  # 2220 CNY now is more than half of 1500 CNY disposable


def test_term_extension_lowers_the_instalment_and_costs_the_customer_more() -> None:
    case = make_case()
    o = term_extension(case, extra_months=12)
    assert o.kind is OptionKind.TERM_EXTENSION
    assert o.schedule.term_months == 20
    assert o.term_extension_months == 12
    assert o.new_principal_fen == case.total_owed_fen
    assert o.schedule.total_principal_fen == case.total_owed_fen
    assert o.schedule.final_balance_fen == 0
    assert o.max_instalment_fen < current_contract(case).max_instalment_fen
    assert o.extra_cost_fen > 0
    assert o.waiver_fen == 0
    # 18 % contract rate above a 3 % cost of funds: stretching the loan is a PV gain for the bank
    assert o.bank_loss_pv_fen < 0
    assert o.pv_new_fen == present_value_fen(flows=o.schedule.flows(), annual_rate=Decimal("0.03"))
    with pytest.raises(OptionNotFeasible):
        term_extension(case, extra_months=100)


def test_lower_instalment_finds_the_shortest_affordable_term() -> None:
    case = make_case()
    policy = RestructurePolicy(affordability_share=Decimal("0.5"))
    o = lower_instalment(case, policy=policy)
    cap = 75_000  # half of 1500 CNY
    assert o.affordable_instalment_fen == cap
    assert o.max_instalment_fen <= cap
    n = o.schedule.term_months
    assert n >= case.remaining_term_months
    # one month shorter would not fit
    assert level_payment_fen(case.total_owed_fen, case.annual_rate, n - 1) > cap
    assert o.affordable is True


def test_lower_instalment_with_a_tighter_share_needs_a_longer_term() -> None:
    case = make_case()
    loose = lower_instalment(case, policy=RestructurePolicy(affordability_share=Decimal("0.5")))
    tight = lower_instalment(case, policy=RestructurePolicy(affordability_share=Decimal("0.3")))
    assert tight.schedule.term_months > loose.schedule.term_months
    assert tight.max_instalment_fen <= 45_000


def test_lower_instalment_infeasible_without_disposable_income() -> None:
    with pytest.raises(OptionNotFeasible, match="disposable"):
        lower_instalment(make_case(monthly_expenses_fen=400_000))
    with pytest.raises(OptionNotFeasible, match="even 72 months"):
        lower_instalment(make_case(monthly_income_fen=252_000))  # 10 CNY a month fits nothing


@settings(max_examples=40, deadline=None)
@given(
    st.integers(10_000, 5_000_000),
    st.integers(1, 36),
    st.integers(0, 3000),
    st.integers(1_000, 2_000_000),
    st.sampled_from([Decimal("0.3"), Decimal("0.5"), Decimal("0.8")]),
)
def test_lower_instalment_property(outstanding: int, term: int, rate_bp: int, disposable: int, share: Decimal) -> None:
    case = make_case(outstanding_principal_fen=outstanding, remaining_term_months=term,
                     annual_rate=Decimal(rate_bp) / 10000, monthly_expenses_fen=100_000,
                     monthly_income_fen=100_000 + disposable)
    policy = RestructurePolicy(affordability_share=share)
    try:
        o = lower_instalment(case, policy=policy)
    except OptionNotFeasible:
        longest = level_payment_fen(case.total_owed_fen, case.annual_rate, policy.max_term_months)
        assert longest > policy.affordable_instalment_fen(case) or term > policy.max_term_months
        return
    assert o.max_instalment_fen <= policy.affordable_instalment_fen(case)
    assert o.schedule.total_principal_fen == case.total_owed_fen
    n = o.schedule.term_months
    if n > term:
        shorter = amortise(principal_fen=case.total_owed_fen, annual_rate=case.annual_rate, term_months=n - 1,
                           method=Method.EQUAL_INSTALMENT, start=AS_OF)
        assert max(i.payment_fen for i in shorter) > policy.affordable_instalment_fen(case)


def test_payment_holiday_capitalised() -> None:
    case = make_case()
    o = payment_holiday(case, months=3, interest=HolidayInterest.CAPITALISE)
    rows = o.schedule.instalments
    assert [i.payment_fen for i in rows[:3]] == [0, 0, 0]
    assert rows[0].capitalised_fen == 15_330  # 10220 × 1.5 % = 153.30
    assert rows[1].opening_fen == 1_022_000 + 15_330
    assert rows[1].capitalised_fen == 15_560  # 10373.30 × 1.5 % = 155.5995 → 155.60
    assert len(rows) == 3 + 8
    assert rows[-1].closing_fen == 0
    # principal repaid = owed + capitalised interest; total paid = owed + every interest charged
    assert o.schedule.total_principal_fen == case.total_owed_fen + o.schedule.total_capitalised_fen
    assert o.total_cost_fen == case.total_owed_fen + o.schedule.total_capitalised_fen + o.schedule.total_interest_fen
    assert o.term_extension_months == 3
    assert rows[3].due_date == date(2026, 10, 30)


def test_payment_holiday_spread_and_interest_only() -> None:
    case = make_case()
    cap = payment_holiday(case, months=3, interest="capitalise")
    spread = payment_holiday(case, months=3, interest="spread")
    io = payment_holiday(case, months=3, interest="interest-only")
    assert spread.schedule.total_capitalised_fen == 0
    assert [i.payment_fen for i in spread.schedule.instalments[:3]] == [0, 0, 0]
    accrued = 3 * 15_330  # balance unchanged during a spread holiday
    tail = amortise(principal_fen=case.total_owed_fen, annual_rate=case.annual_rate, term_months=8,
                    method=Method.EQUAL_INSTALMENT, start=AS_OF, first_period=4, first_seq=4)
    assert spread.schedule.total_interest_fen == sum(i.interest_fen for i in tail) + accrued
    assert [i.payment_fen for i in io.schedule.instalments[:3]] == [15_330] * 3
    # no interest on interest: spreading and interest-only cost less than capitalising
    assert spread.total_cost_fen < cap.total_cost_fen
    assert io.total_cost_fen == spread.total_cost_fen
    # but the bank receives the interest-only payments earlier
    assert io.pv_new_fen > spread.pv_new_fen


def test_waivers() -> None:
    case = make_case()
    pen = waiver(case)
    assert pen.kind is OptionKind.PENALTY_WAIVER
    assert pen.waiver_fen == 12_000
    assert pen.new_principal_fen == case.total_owed_fen - 12_000
    assert pen.waiver_share == Decimal("0.011742")  # 120 / 10220
    both = waiver(case, penalty_share=Decimal(1), interest_share=Decimal("0.5"))
    assert both.kind is OptionKind.INTEREST_WAIVER
    assert both.waiver_fen == 12_000 + 15_000
    assert both.bank_loss_pv_fen > pen.bank_loss_pv_fen
    assert both.total_cost_fen < pen.total_cost_fen
    with pytest.raises(OptionNotFeasible):
        waiver(make_case(arrears_penalty_fen=0))
    with pytest.raises(ValueError):
        waiver(case, penalty_share=Decimal("1.5"))


def test_settlement() -> None:
    case = make_case()
    o = settlement(case, lump_sum_fen=700_000)
    assert o.schedule.instalments[0].payment_fen == 700_000
    assert o.schedule.instalments[0].due_date == AS_OF
    assert o.waiver_fen == 322_000
    assert o.pv_new_fen == 700_000  # paid today: no discounting
    assert o.bank_loss_pv_fen == o.pv_original_fen - 700_000
    assert o.affordable is None
    later = settlement(case, lump_sum_fen=700_000, pay_in_months=2)
    assert later.pv_new_fen < 700_000
    default = settlement(case)
    assert default.schedule.total_payment_fen == 817_600  # 80 % of 10220
    with pytest.raises(ValueError):
        settlement(case, lump_sum_fen=case.total_owed_fen + 1)


def test_loss_is_pv_original_minus_pv_new_for_every_option() -> None:
    case = make_case()
    policy = RestructurePolicy(cost_of_funds=Decimal("0.05"))
    result = restructuring_options(case, policy=policy, probability=Decimal("0.6"))
    pv_original = present_value_fen(flows=original_flows(case), annual_rate=Decimal("0.05"))
    assert {o.kind for o in result.options} == set(OptionKind)
    for o in result.options:
        assert o.pv_original_fen == pv_original
        assert o.pv_new_fen == present_value_fen(flows=o.schedule.flows(), annual_rate=Decimal("0.05"))
        assert o.bank_loss_pv_fen == pv_original - o.pv_new_fen
        assert o.probability == Decimal("0.6")
        assert o.expected_recovery_fen == (o.pv_new_fen * 6 + 5) // 10
        assert o.expected_loss_fen == pv_original - o.expected_recovery_fen


def test_discounting_at_the_contract_rate_makes_pure_rescheduling_nearly_neutral() -> None:
    case = make_case(arrears_interest_fen=0, arrears_penalty_fen=0)
    policy = RestructurePolicy(cost_of_funds=Decimal("0.18"))
    o = term_extension(case, extra_months=12, policy=policy)
    assert abs(o.bank_loss_pv_fen) <= 30  # only fen rounding differs


def test_probability_callable_and_best_option() -> None:
    case = make_case()

    def propensity(option: RestructureOption) -> float:
        # the risk model: affordable plans are paid far more often
        if option.kind is OptionKind.SETTLEMENT:
            return 0.2
        return 0.8 if option.affordable else 0.25

    result = restructuring_options(case, probability=propensity)
    best = best_option(result)
    assert best is not None and best.affordable is True
    rows = compare_options(result)
    assert [r.expected_recovery_fen for r in rows] == sorted((r.expected_recovery_fen or 0 for r in rows),
                                                             reverse=True)
    assert rows[0].kind is best.kind
    d = rows[0].as_dict()
    assert d["label_zh"] and d["label_en"]
    assert isinstance(d["total_cost"], str) and "." in d["total_cost"]
    with pytest.raises(ValueError):
        restructuring_options(case, probability=1.5)


def test_infeasible_options_are_reported() -> None:
    case = make_case(monthly_expenses_fen=500_000, arrears_penalty_fen=0)
    result = restructuring_options(case, probability=0.5)
    kinds = dict(result.infeasible)
    assert OptionKind.LOWER_INSTALMENT in kinds
    assert OptionKind.PENALTY_WAIVER in kinds
    assert result.get(OptionKind.LOWER_INSTALMENT) is None
    assert result.get(OptionKind.TERM_EXTENSION) is not None


def test_policy_from_mapping() -> None:
    p = RestructurePolicy.from_mapping({"affordability_share": "0.4", "max_term_months": 48,
                                        "holiday_interest": "spread"})
    assert p.affordability_share == Decimal("0.4")
    assert p.max_term_months == 48
    assert p.holiday_interest is HolidayInterest.SPREAD
    with pytest.raises(ValueError, match="unknown"):
        RestructurePolicy.from_mapping({"afordability": "0.4"})
    with pytest.raises(ValueError):
        RestructurePolicy(affordability_share=Decimal("1.2"))


def test_matured_loan_with_only_arrears() -> None:
    case = make_case(outstanding_principal_fen=0, remaining_term_months=0)
    o = term_extension(case, extra_months=6)
    assert o.schedule.term_months == 7
    assert o.schedule.total_principal_fen == case.total_owed_fen
    assert current_contract(case).schedule.term_months == 1
