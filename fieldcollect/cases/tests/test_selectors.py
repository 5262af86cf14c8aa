from __future__ import annotations

import pytest

from fieldcollect.cases import services
from fieldcollect.cases.forms import CaseListParams
from fieldcollect.cases.selectors import (
    CaseFilters,
    case_list,
    case_timeline,
    customer_fields_for,
    decode_cursor,
    encode_cursor,
    loan_history,
    set_loan_history_reader,
)
from fieldcollect.core.models import Role
from fieldcollect.core.params import InvalidParameters
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def test_cursor_round_trip_and_garbage():
    assert decode_cursor(encode_cursor(dpd=45, case_id=123)) == (45, 123)
    assert decode_cursor("not-a-cursor!!") is None
    assert decode_cursor(None) is None


def test_keyset_pages_cover_everything_once_in_order(world):
    cm = world.bank[Role.COLLECTIONS_MANAGER]
    for dpd in (5, 40, 40, 40, 95, 200, 12):
        f.make_case(dpd=dpd)
    seen = []
    cursor = None
    while True:
        page = case_list(user=cm, filters=CaseFilters(), cursor=cursor, limit=3)
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    keys = [(-c.dpd, c.pk) for c in seen]
    assert keys == sorted(keys)
    assert len({c.pk for c in seen}) == len(seen) == 12


def test_filters(world):
    cm = world.bank[Role.COLLECTIONS_MANAGER]
    hit = f.make_case(dpd=100, bucket="M4", city="杭州", overdue_fen=999_900)
    f.make_case(dpd=100, bucket="M4", city="杭州", overdue_fen=10_000)
    f.make_case(dpd=10, bucket="M1", city="杭州", overdue_fen=999_900)
    params = {"bucket": "M4", "city": "杭州", "dpd_min": "90", "dpd_max": "120", "amount_min": "5000.50"}
    page = case_list(user=cm, filters=CaseListParams.filters(params), with_count=True)
    assert [c.pk for c in page.items] == [hit.pk]
    assert page.count == 1
    by_agency = case_list(user=cm, filters=CaseListParams.filters({"agency": str(world.agency_b.pk)}))
    assert [c.pk for c in by_agency.items] == [world.case_b.pk]
    by_status = case_list(user=cm, filters=CaseFilters(status="new"))
    assert world.case_new.pk in {c.pk for c in by_status.items}
    for bad in ({"dpd_min": "abc"}, {"amount_max": "x"}, {"amount_min": "Infinity"}, {"amount_min": "NaN"},
                {"amount_min": "1e309"}, {"dpd_min": "9" * 20}, {"agency": "²"}, {"agency": "٣"}, {"city": "a\x00b"},
                {"collector": "9" * 20}, {"dpd_max": "-1"}):
        with pytest.raises(InvalidParameters) as exc:
            CaseListParams.filters(bad)
        assert exc.value.status_code == 400 and set(exc.value.extra) == set(bad), bad
    assert CaseListParams.filters({"dpd_min": " 30 ", "collector": "none", "closed": "on", "amount_min": ""}) == \
        CaseFilters(dpd_min=30, unassigned=True, include_closed=True)


def test_closed_cases_hidden_unless_asked(world):
    cm = world.bank[Role.COLLECTIONS_MANAGER]
    services.case_transition(case=world.case_new, target="closed", close_reason="paid", acting_user=cm)
    assert world.case_new.pk not in {c.pk for c in case_list(user=cm, filters=CaseFilters()).items}
    assert world.case_new.pk in {c.pk for c in case_list(user=cm, filters=CaseFilters(include_closed=True)).items}


def test_count_is_capped(world):
    cm = world.bank[Role.COLLECTIONS_MANAGER]
    page = case_list(user=cm, filters=CaseFilters(), with_count=True, count_cap=3)
    assert page.count == 3 and page.count_capped


def test_agency_list_query_count_is_bounded(world, django_assert_max_num_queries):
    agency = world.agency_a
    for _ in range(30):
        case = f.make_case()
        services.case_place(case=case, agency=agency, acting_user=None, check_capacity=False)
        services.case_assign(case=case, collector=world.collector_a1, acting_user=world.manager_a)
    # the page, its count, the contract versions in force (the agency's permitted fields): whatever the rows
    with django_assert_max_num_queries(4):
        page = case_list(user=world.manager_a, filters=CaseFilters(), limit=50, with_count=True)
        rows = [(c.customer.name, c.agency and c.agency.name, c.collector and c.collector.name) for c in page.items]
    assert len(rows) == 33 and page.count == 33


def test_timeline_newest_first_with_all_kinds(world):
    case = world.case_a1
    services.contact_record(case=case, acting_user=world.collector_user_a1, channel="phone", outcome="promise",
                            conversation=True, at=f.in_hours())
    services.promise_record(case=case, acting_user=world.collector_user_a1, amount_fen=10_000, due_on=f.today())
    services.note_add(case=case, acting_user=world.manager_a, body="备注")
    kinds = [e.kind for e in case_timeline(case=case)]
    assert {"opened", "placement", "assignment", "contact", "promise", "note"} <= set(kinds)
    assert kinds[-1] == "opened"
    ats = [e.at for e in case_timeline(case=case)]
    assert ats == sorted(ats, reverse=True)


def test_loan_history_hook_and_db_fallback(world):
    case = world.case_a1
    services.payment_record(case=case, amount_fen=1234, paid_on=f.today(), acting_user=None)
    h = loan_history(loan_id=case.loan_id)
    assert h.source == "database" and h.payments[0]["amount_fen"] == 1234
    set_loan_history_reader(lambda loan_id: {"installments": [{"n": 1}], "payments": []})
    try:
        h = loan_history(loan_id=case.loan_id)
        assert h.source == "store" and h.installments == [{"n": 1}]
    finally:
        set_loan_history_reader(None)


def test_agency_users_see_only_permitted_customer_fields(world):
    from fieldcollect.privacy.masking import mask_name

    case = world.case_a1
    bank = customer_fields_for(user=world.bank[Role.AUDITOR], case=case)
    agency = customer_fields_for(user=world.manager_a, case=case)
    assert "id_number" in bank
    assert "id_number" not in agency and agency["name"] == mask_name(case.customer.name)


def test_distinct_cities_sorted_unique(world):
    from fieldcollect.cases.selectors import distinct_cities

    f.make_case(city="杭州")
    f.make_case(city="北京")
    f.make_case(city="杭州")
    assert distinct_cities() == sorted({"上海", "杭州", "北京"})
    assert distinct_cities(limit=1) == [sorted({"上海", "杭州", "北京"})[0]]


def test_written_out_case_list_matches_the_orm(world):
    """The API's list (no related rows: one hand-written statement) gives the rows, order, next cursor
    and count of the ORM query (with related rows) for every role, filter, cursor, offset and cap."""
    import itertools

    from fieldcollect.cases.models import Case

    cm = world.bank[Role.COLLECTIONS_MANAGER]
    for i, case in enumerate([world.case_a1, world.case_a2, world.case_a_unassigned, world.case_b]):
        Case.objects.filter(pk=case.pk).update(dpd=30 + 10 * (i % 2), overdue_fen=10_000 * (i + 1),
                                               city="杭州" if i % 2 else "上海", bucket="M2" if i > 1 else "M1")
    Case.objects.filter(pk=world.case_a2.pk).update(closed_on=f.today(), status="closed")
    users = [cm, world.manager_a, world.manager_b, world.collector_user_a1, world.collector_user_b,
             f.make_user(role="")]
    filter_sets = [CaseFilters(), CaseFilters(include_closed=True), CaseFilters(status="closed"),
                   CaseFilters(bucket="M2"), CaseFilters(city="杭州"), CaseFilters(agency_id=world.agency_a.pk),
                   CaseFilters(collector_id=world.collector_a1.pk), CaseFilters(unassigned=True),
                   CaseFilters(dpd_min=40), CaseFilters(dpd_max=30), CaseFilters(overdue_min_fen=20_000),
                   CaseFilters(overdue_max_fen=20_000, include_closed=True)]
    compared = 0
    for user, filters, (limit, offset, cap) in itertools.product(
            users, filter_sets, [(2, None, None), (1, 1, None), (50, None, 2), (3, 2, 1)]):
        fast = case_list(user=user, filters=filters, limit=limit, offset=offset, with_count=True,
                         count_cap=cap, related=())
        orm = case_list(user=user, filters=filters, limit=limit, offset=offset, with_count=True,
                        count_cap=cap, related=("customer",))
        assert ([c.pk for c in fast.items], fast.next_cursor, fast.count, fast.count_capped) == (
            [c.pk for c in orm.items], orm.next_cursor, orm.count, orm.count_capped), (user.role, filters, limit)
        if orm.next_cursor:  # the next page by cursor
            fast2 = case_list(user=user, filters=filters, limit=limit, cursor=fast.next_cursor, with_count=True,
                              count_cap=cap, related=())
            orm2 = case_list(user=user, filters=filters, limit=limit, cursor=orm.next_cursor, with_count=True,
                             count_cap=cap, related=("customer",))
            assert ([c.pk for c in fast2.items], fast2.next_cursor, fast2.count) == (
                [c.pk for c in orm2.items], orm2.next_cursor, orm2.count)
        compared += bool(orm.items)
    assert compared > 40  # most comparisons are between non-empty pages
    # the written-out rows are whole cases, like the ORM's
    page = case_list(user=cm, filters=CaseFilters(), related=())
    assert {c.pk: (c.dpd, c.city, c.agency_id, c.version) for c in page.items} == {
        c.pk: (c.dpd, c.city, c.agency_id, c.version) for c in Case.objects.filter(pk__in=[x.pk for x in page.items])}


def test_written_out_case_count_follows_the_agencys_own_contract(world):
    """The count's subquery names the case table ``k``: the contract subqueries must not take that
    name too (they then matched any agency's contract in force, and counted the cases of an agency
    whose own contract was terminated while another agency's was still in force)."""
    from fieldcollect.agencies.models import AgencyContract

    AgencyContract.objects.filter(agency=world.agency_a).update(status=AgencyContract.Status.TERMINATED)
    assert AgencyContract.objects.filter(agency=world.agency_b, status=AgencyContract.Status.ACTIVE).exists()
    for user, expected in ((world.manager_a, 0), (world.collector_user_a1, 0), (world.manager_b, 1)):
        fast = case_list(user=user, filters=CaseFilters(), with_count=True, related=())
        orm = case_list(user=user, filters=CaseFilters(), with_count=True, related=("customer",))
        assert (len(fast.items), fast.count) == (len(orm.items), orm.count) == (expected, expected), user.role
