"""The one four-eyes rule (:func:`fieldcollect.core.maker_checker.same_person`) and the requests' rule
built on it (pure: no database)."""

from fieldcollect.core import maker_checker as mc


def test_same_person_is_the_maker_or_an_earlier_checker() -> None:
    assert mc.same_person(7, 7)
    assert mc.same_person("7", "3", frozenset({"7"}))
    assert not mc.same_person(7, 3)
    assert not mc.same_person(7, 3, {4, 5})
    # no recorded maker: nobody matches it (a system-made request may be checked by anyone)
    assert not mc.same_person(7, None)
    assert not mc.same_person(None, None)


def test_the_maker_never_checks_not_even_a_superuser() -> None:
    for decision in (mc.Decision.APPROVE, mc.Decision.REJECT):
        found = mc.violations(state="pending", decision=decision, maker_id=7, actor_id=7,
                              actor_role="collections_manager", checker_roles={"collections_manager"},
                              actor_is_superuser=True)
        assert found == [mc.Violation.SAME_PERSON]
        assert mc.violations(state="pending", decision=decision, maker_id=7, actor_id=8,
                             actor_role="collections_manager", checker_roles={"collections_manager"}) == []
