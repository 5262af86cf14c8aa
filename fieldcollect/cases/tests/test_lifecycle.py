"""The lifecycle table itself (pure: no database)."""

import itertools

from fieldcollect.cases.lifecycle import ALLOWED_TRANSITIONS, CaseStatus, can_transition

S = CaseStatus


def test_every_status_has_a_row_and_targets_are_statuses():
    assert set(ALLOWED_TRANSITIONS) == set(S.values)
    for targets in ALLOWED_TRANSITIONS.values():
        assert targets <= set(S.values)


def test_happy_path_new_to_closed():
    path = [S.NEW, S.PLACED, S.ASSIGNED, S.IN_PROGRESS, S.PROMISE, S.CLOSED]
    for a, b in itertools.pairwise(path):
        assert can_transition(a, b), (a, b)


def test_forbidden_moves():
    assert not can_transition(S.CLOSED, S.PLACED)
    assert not can_transition(S.NEW, S.PROMISE)
    assert not can_transition(S.RECALLED, S.ASSIGNED)
    assert not can_transition("nonsense", S.NEW)


def test_every_open_status_can_be_closed_and_closed_only_reopens():
    for s in S.values:
        if s != S.CLOSED:
            assert can_transition(s, S.CLOSED)
    assert ALLOWED_TRANSITIONS[S.CLOSED] == frozenset({S.NEW})
