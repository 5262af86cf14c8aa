"""Two-person approval (maker-checker) of a single request: the one rule, shared by the contract
versions (:mod:`fieldcollect.agencies.contracts`) and the batch actions (:mod:`fieldcollect.cases.batch`).

The principle, *the same person never makes and checks*, is :func:`same_person`: these requests, the
restructuring plans' richer state machine (:mod:`fieldcollect.plans.authority`: endorsement,
authority limits, escalation) and the appeals of quality inspection (:mod:`fieldcollect.qa.reviews`)
all ask it. A request is ``pending`` after the maker made it; a checker in one of the checker roles,
who is not the maker, approves or rejects it; the maker may withdraw it while it is pending. Decided
requests are final.

Pure (no Django): the services hold the request rows and, through :mod:`fieldcollect.core.decisions`,
call :func:`violations` and store the decision; their audit row goes in the same transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

__all__ = ["Decision", "RequestState", "Violation", "next_state", "same_person", "violations"]


class RequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"


class Violation(StrEnum):
    NOT_PENDING = "not_pending"
    SAME_PERSON = "same_person"
    ROLE_NOT_ALLOWED = "role_not_allowed"
    NOT_MAKER = "not_maker"


def same_person(actor_id: object, maker_id: object, checker_ids: Collection[object] = ()) -> bool:
    """Whether ``actor_id`` made the request (``maker_id``) or has already checked it (``checker_ids``):
    such a person never checks it. A request with no recorded maker has no maker to match."""
    return (maker_id is not None and actor_id == maker_id) or actor_id in checker_ids


_TARGET = {
    Decision.APPROVE: RequestState.APPROVED,
    Decision.REJECT: RequestState.REJECTED,
    Decision.WITHDRAW: RequestState.WITHDRAWN,
}


def violations(
    *,
    state: str,
    decision: Decision | str,
    maker_id: int | None,
    actor_id: int,
    actor_role: str,
    checker_roles: Collection[str],
    actor_is_superuser: bool = False,
) -> list[Violation]:
    """What forbids ``actor`` taking ``decision`` on a request in ``state`` made by ``maker_id``
    (empty list: allowed). The maker withdraws; a checker approves or rejects, never the maker (not
    even a superuser: four eyes are four eyes)."""
    d = Decision(decision)
    out: list[Violation] = []
    if state != RequestState.PENDING:
        out.append(Violation.NOT_PENDING)
    if d is Decision.WITHDRAW:
        if maker_id != actor_id:
            out.append(Violation.NOT_MAKER)
        return out
    if same_person(actor_id, maker_id):
        out.append(Violation.SAME_PERSON)
    if actor_role not in checker_roles and not actor_is_superuser:
        out.append(Violation.ROLE_NOT_ALLOWED)
    return out


def next_state(decision: Decision | str) -> RequestState:
    """The state a request takes after ``decision`` (once :func:`violations` allowed it)."""
    return _TARGET[Decision(decision)]
