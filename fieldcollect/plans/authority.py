"""Authority matrix and the maker-checker state machine of a restructuring plan (pure, no Django).

Flow::

    proposed ──endorse──▶ endorsed ──approve──▶ approved ──offer──▶ offered ──accept──▶ accepted
       │  (agency manager)   │  (bank approver         │                  │
       │                     │   within limits)        │                  └──expire──▶ expired
       └──reject──▶ rejected ◀──reject──┤                  │
                                        └──escalate──▶ escalated ──approve/reject (higher authority)

* The collector (maker) proposes; an agency manager of the same agency endorses or rejects; a bank
  approver decides within the limits of their role in the authority matrix. A proposal beyond those
  limits cannot be approved by them ("escalation required") and is escalated to the roles whose limits
  cover it.
* The same person never makes and checks: the endorser differs from the maker, and the approver
  differs from both.
* Every transition returns a new immutable :class:`Proposal` with an :class:`AuditEvent` appended, so
  the caller (the plans service) stores the event in the same transaction as the state.

Use :func:`validate` to list what forbids an action (empty list = allowed) and :func:`transition` to
apply it (raises :class:`TransitionError` with the same violations).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from fieldcollect.core.maker_checker import same_person
from fieldcollect.plans.schedule import fen_to_yuan, yuan_to_fen

__all__ = [
    "Action",
    "Actor",
    "AuditEvent",
    "AuthorityLimit",
    "AuthorityMatrix",
    "ErrorCode",
    "PlanState",
    "Proposal",
    "ProposalTerms",
    "TransitionError",
    "Violation",
    "propose",
    "terms_from_option",
    "transition",
    "validate",
]


class PlanState(StrEnum):
    PROPOSED = "proposed"
    ENDORSED = "endorsed"
    ESCALATED = "escalated"
    APPROVED = "approved"
    REJECTED = "rejected"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    EXPIRED = "expired"


TERMINAL_STATES = frozenset({PlanState.REJECTED, PlanState.ACCEPTED, PlanState.EXPIRED})


class Action(StrEnum):
    PROPOSE = "propose"
    ENDORSE = "endorse"
    APPROVE = "approve"
    REJECT = "reject"
    ESCALATE = "escalate"
    OFFER = "offer"
    ACCEPT = "accept"
    EXPIRE = "expire"


TRANSITIONS: dict[tuple[PlanState, Action], PlanState] = {
    (PlanState.PROPOSED, Action.ENDORSE): PlanState.ENDORSED,
    (PlanState.PROPOSED, Action.REJECT): PlanState.REJECTED,
    (PlanState.ENDORSED, Action.APPROVE): PlanState.APPROVED,
    (PlanState.ENDORSED, Action.REJECT): PlanState.REJECTED,
    (PlanState.ENDORSED, Action.ESCALATE): PlanState.ESCALATED,
    (PlanState.ESCALATED, Action.APPROVE): PlanState.APPROVED,
    (PlanState.ESCALATED, Action.REJECT): PlanState.REJECTED,
    (PlanState.APPROVED, Action.OFFER): PlanState.OFFERED,
    (PlanState.OFFERED, Action.ACCEPT): PlanState.ACCEPTED,
    (PlanState.OFFERED, Action.EXPIRE): PlanState.EXPIRED,
}


class ErrorCode(StrEnum):
    """Stable error codes (for API clients and translations)."""

    INVALID_TRANSITION = "invalid_transition"
    ROLE_NOT_ALLOWED = "role_not_allowed"
    SAME_PERSON = "same_person"
    OTHER_AGENCY = "other_agency"
    ESCALATION_REQUIRED = "escalation_required"
    NOT_ESCALATION_TARGET = "not_escalation_target"
    BEYOND_ALL_AUTHORITY = "beyond_all_authority"
    WITHIN_LIMITS = "within_limits"
    OFFER_EXPIRED = "offer_expired"
    OFFER_NOT_EXPIRED = "offer_not_expired"
    EXPIRY_REQUIRED = "expiry_required"
    WRONG_CUSTOMER = "wrong_customer"
    NAIVE_DATETIME = "naive_datetime"
    TIME_BEFORE_LAST_EVENT = "time_before_last_event"
    INVALID_TERMS = "invalid_terms"


@dataclass(frozen=True)
class Violation:
    code: ErrorCode
    message: str


class TransitionError(Exception):
    """An action is not allowed; ``violations`` says why (first one in the message)."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(v.message for v in violations))
        self.violations = tuple(violations)

    @property
    def codes(self) -> tuple[ErrorCode, ...]:
        return tuple(v.code for v in self.violations)


# --------------------------------------------------------------------------------------------------
# Authority matrix
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposalTerms:
    """What an approver is asked to approve (amounts in fen)."""

    kind: str
    waiver_fen: int = 0
    waiver_share: Decimal = Decimal(0)
    term_extension_months: int = 0

    def __post_init__(self) -> None:
        if self.waiver_fen < 0 or self.term_extension_months < 0 or not Decimal(0) <= self.waiver_share <= 1:
            raise ValueError("terms must be non-negative and the waiver share within [0, 1]")


def terms_from_option(option: Any) -> ProposalTerms:
    """Terms of a :class:`fieldcollect.plans.options.RestructureOption` (duck-typed)."""
    return ProposalTerms(
        kind=str(option.kind),
        waiver_fen=int(option.waiver_fen),
        waiver_share=Decimal(option.waiver_share),
        term_extension_months=int(option.term_extension_months),
    )


@dataclass(frozen=True)
class AuthorityLimit:
    """How much one approver role may approve on its own."""

    role: str
    max_waiver_share: Decimal
    max_waiver_fen: int
    max_term_extension_months: int

    def breaches(self, terms: ProposalTerms) -> list[str]:
        """What in ``terms`` exceeds this limit (empty = within limits)."""
        out: list[str] = []
        if terms.waiver_share > self.max_waiver_share:
            out.append(f"waiver share {terms.waiver_share} > {self.max_waiver_share}")
        if terms.waiver_fen > self.max_waiver_fen:
            out.append(f"waiver {fen_to_yuan(terms.waiver_fen)} > {fen_to_yuan(self.max_waiver_fen)} CNY")
        if terms.term_extension_months > self.max_term_extension_months:
            out.append(f"term extension {terms.term_extension_months} > {self.max_term_extension_months} months")
        return out

    def covers(self, terms: ProposalTerms) -> bool:
        return not self.breaches(terms)


DEFAULT_MATRIX: dict[str, Any] = {
    "maker_roles": ["collector"],
    "endorser_roles": ["agency_manager"],
    "offer_roles": ["bank_approver", "collections_manager", "system"],
    "customer_role": "customer",
    "approvers": {
        "bank_approver": {"max_waiver_share": "0.10", "max_waiver_amount": "2000.00", "max_term_extension_months": 12},
        "collections_manager": {
            "max_waiver_share": "0.30",
            "max_waiver_amount": "20000.00",
            "max_term_extension_months": 36,
        },
    },
}


@dataclass(frozen=True)
class AuthorityMatrix:
    """Approval limits per role, ordered from the lowest to the highest authority, and who may act.

    Build it with :meth:`from_mapping` or :meth:`from_toml`, e.g.::

        maker_roles = ["collector"]
        endorser_roles = ["agency_manager"]
        offer_roles = ["bank_approver", "system"]
        [approvers.bank_approver]
        max_waiver_share = "0.10"          # of everything owed
        max_waiver_amount = "2000.00"      # CNY (or max_waiver_fen = 200000)
        max_term_extension_months = 12
    """

    limits: tuple[AuthorityLimit, ...]
    maker_roles: frozenset[str] = frozenset({"collector"})
    endorser_roles: frozenset[str] = frozenset({"agency_manager"})
    offer_roles: frozenset[str] = frozenset({"system"})
    customer_role: str = "customer"
    _by_role: dict[str, AuthorityLimit] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        roles = [limit.role for limit in self.limits]
        if len(set(roles)) != len(roles):
            raise ValueError("an approver role is listed twice")
        self._by_role.update({limit.role: limit for limit in self.limits})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> AuthorityMatrix:
        """Build from a dict (the parsed TOML); amounts in yuan strings or ``max_waiver_fen`` integers.

        Raises
        ------
        ValueError
            On a missing or malformed limit.
        """
        approvers = data.get("approvers")
        if not isinstance(approvers, Mapping) or not approvers:
            raise ValueError("the authority matrix needs an [approvers.<role>] table")
        limits = []
        for role, raw in approvers.items():
            if not isinstance(raw, Mapping):
                raise ValueError(f"approvers.{role} must be a table")
            try:
                share = Decimal(str(raw["max_waiver_share"]))
                if "max_waiver_fen" in raw:
                    amount_fen = int(raw["max_waiver_fen"])
                else:
                    amount_fen = yuan_to_fen(str(raw["max_waiver_amount"]))
                months = int(raw.get("max_term_extension_months", 0))
            except KeyError as exc:
                raise ValueError(f"approvers.{role} lacks {exc.args[0]}") from None
            except (ArithmeticError, TypeError) as exc:
                raise ValueError(f"approvers.{role}: {exc}") from None
            if not Decimal(0) <= share <= 1 or amount_fen < 0 or months < 0:
                raise ValueError(f"approvers.{role}: limits must be non-negative and the share at most 1")
            limits.append(AuthorityLimit(str(role), share, amount_fen, months))

        def roles(key: str, default: frozenset[str]) -> frozenset[str]:
            value = data.get(key)
            return default if value is None else frozenset(str(v) for v in value)

        return cls(
            limits=tuple(limits),
            maker_roles=roles("maker_roles", frozenset({"collector"})),
            endorser_roles=roles("endorser_roles", frozenset({"agency_manager"})),
            offer_roles=roles("offer_roles", frozenset({"system"})),
            customer_role=str(data.get("customer_role", "customer")),
        )

    @classmethod
    def from_toml(cls, source: str | Path) -> AuthorityMatrix:
        """Parse TOML text, or read it from a path."""
        text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
        return cls.from_mapping(tomllib.loads(text))

    @classmethod
    def default(cls) -> AuthorityMatrix:
        return cls.from_mapping(DEFAULT_MATRIX)

    @property
    def approver_roles(self) -> frozenset[str]:
        return frozenset(self._by_role)

    def limit_for(self, role: str) -> AuthorityLimit | None:
        return self._by_role.get(role)

    def can_approve(self, role: str, terms: ProposalTerms) -> bool:
        limit = self._by_role.get(role)
        return limit is not None and limit.covers(terms)

    def approvers_for(self, terms: ProposalTerms) -> tuple[str, ...]:
        """Roles whose limits cover ``terms``, lowest authority first (the escalation targets)."""
        return tuple(limit.role for limit in self.limits if limit.covers(terms))


# --------------------------------------------------------------------------------------------------
# Proposal and state machine
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who acts: a user id, the role they act in, and their agency (None for bank staff)."""

    user_id: str
    role: str
    agency_id: str | None = None


@dataclass(frozen=True)
class AuditEvent:
    action: Action
    from_state: PlanState | None
    to_state: PlanState
    actor_id: str
    actor_role: str
    at: datetime
    note: str = ""


@dataclass(frozen=True)
class Proposal:
    """The state of one restructuring proposal and its audit history."""

    terms: ProposalTerms
    state: PlanState
    maker: Actor
    history: tuple[AuditEvent, ...]
    customer_id: str | None = None
    endorser_id: str | None = None
    approver_id: str | None = None
    approver_role: str | None = None
    escalated_to: tuple[str, ...] = ()
    escalated_by_id: str | None = None
    offer_expires_at: datetime | None = None

    @property
    def checker_ids(self) -> frozenset[str]:
        return frozenset(x for x in (self.endorser_id, self.escalated_by_id, self.approver_id) if x is not None)

    @property
    def is_final(self) -> bool:
        return self.state in TERMINAL_STATES

    def allowed_actions(self) -> tuple[Action, ...]:
        return tuple(a for (s, a) in TRANSITIONS if s is self.state)


def _aware(at: datetime) -> bool:
    return at.tzinfo is not None and at.utcoffset() is not None


def propose(
    *,
    terms: ProposalTerms,
    maker: Actor,
    at: datetime,
    matrix: AuthorityMatrix,
    customer_id: str | None = None,
    note: str = "",
) -> Proposal:
    """The collector's proposal (state ``proposed``).

    Raises
    ------
    TransitionError
        If the maker's role may not propose or ``at`` is naive.
    """
    violations = []
    if maker.role not in matrix.maker_roles:
        violations.append(Violation(ErrorCode.ROLE_NOT_ALLOWED, f"role {maker.role!r} may not propose a plan"))
    if not _aware(at):
        violations.append(Violation(ErrorCode.NAIVE_DATETIME, "timestamps must be timezone-aware"))
    if violations:
        raise TransitionError(violations)
    event = AuditEvent(Action.PROPOSE, None, PlanState.PROPOSED, maker.user_id, maker.role, at, note)
    return Proposal(terms=terms, state=PlanState.PROPOSED, maker=maker, history=(event,), customer_id=customer_id)


def validate(
    *,
    proposal: Proposal,
    action: Action | str,
    actor: Actor,
    at: datetime,
    matrix: AuthorityMatrix,
    expires_at: datetime | None = None,
) -> list[Violation]:
    """Everything that forbids ``actor`` doing ``action`` on ``proposal`` at ``at`` (empty = allowed)."""
    act = Action(action)
    out: list[Violation] = []
    target = TRANSITIONS.get((proposal.state, act))
    if target is None:
        return [Violation(ErrorCode.INVALID_TRANSITION, f"cannot {act.value} a plan that is {proposal.state.value}")]
    if not _aware(at):
        return [Violation(ErrorCode.NAIVE_DATETIME, "timestamps must be timezone-aware")]
    if proposal.history and at < proposal.history[-1].at:
        out.append(Violation(ErrorCode.TIME_BEFORE_LAST_EVENT, "an action cannot precede the previous one"))

    def not_maker_or_checker(ids: frozenset[str]) -> None:
        if same_person(actor.user_id, proposal.maker.user_id, ids):
            out.append(Violation(ErrorCode.SAME_PERSON, "the maker and the checkers must be different people"))

    stage_endorse = proposal.state is PlanState.PROPOSED
    if act is Action.ENDORSE or (act is Action.REJECT and stage_endorse):
        if actor.role not in matrix.endorser_roles:
            out.append(Violation(ErrorCode.ROLE_NOT_ALLOWED, f"role {actor.role!r} may not endorse or reject here"))
        not_maker_or_checker(frozenset())
        if proposal.maker.agency_id is not None and actor.agency_id != proposal.maker.agency_id:
            out.append(Violation(ErrorCode.OTHER_AGENCY, "only a manager of the collector's agency may endorse"))
    elif act in (Action.APPROVE, Action.REJECT, Action.ESCALATE):
        limit = matrix.limit_for(actor.role)
        if limit is None:
            out.append(Violation(ErrorCode.ROLE_NOT_ALLOWED, f"role {actor.role!r} has no approval authority"))
        not_maker_or_checker(proposal.checker_ids)
        if proposal.state is PlanState.ESCALATED and actor.role not in proposal.escalated_to:
            out.append(
                Violation(
                    ErrorCode.NOT_ESCALATION_TARGET,
                    f"escalated to {', '.join(proposal.escalated_to)}; role {actor.role!r} may not decide",
                )
            )
        if limit is not None and act is Action.APPROVE and not limit.covers(proposal.terms):
            breaches = "; ".join(limit.breaches(proposal.terms))
            targets = matrix.approvers_for(proposal.terms)
            if targets:
                out.append(
                    Violation(
                        ErrorCode.ESCALATION_REQUIRED,
                        f"beyond the limits of {actor.role} ({breaches}): escalate to {', '.join(targets)}",
                    )
                )
            else:
                out.append(
                    Violation(ErrorCode.BEYOND_ALL_AUTHORITY, f"beyond every approver's limits ({breaches})")
                )
        if act is Action.ESCALATE:
            if limit is not None and limit.covers(proposal.terms):
                out.append(Violation(ErrorCode.WITHIN_LIMITS, "within your limits: approve or reject instead"))
            if not matrix.approvers_for(proposal.terms):
                out.append(Violation(ErrorCode.BEYOND_ALL_AUTHORITY, "no role may approve these terms: reject"))
    elif act is Action.OFFER:
        if actor.role not in matrix.offer_roles and actor.role not in matrix.approver_roles:
            out.append(Violation(ErrorCode.ROLE_NOT_ALLOWED, f"role {actor.role!r} may not send offers"))
        if expires_at is None:
            out.append(Violation(ErrorCode.EXPIRY_REQUIRED, "an offer needs an expiry time"))
        elif not _aware(expires_at) or expires_at <= at:
            out.append(Violation(ErrorCode.EXPIRY_REQUIRED, "the expiry must be an aware time after the offer"))
    elif act is Action.ACCEPT:
        if actor.role != matrix.customer_role:
            out.append(Violation(ErrorCode.ROLE_NOT_ALLOWED, "only the customer may accept"))
        if proposal.customer_id is not None and actor.user_id != proposal.customer_id:
            out.append(Violation(ErrorCode.WRONG_CUSTOMER, "the offer was made to another customer"))
        if proposal.offer_expires_at is not None and at > proposal.offer_expires_at:
            out.append(Violation(ErrorCode.OFFER_EXPIRED, "the offer has expired"))
    elif act is Action.EXPIRE and proposal.offer_expires_at is not None and at <= proposal.offer_expires_at:
        out.append(Violation(ErrorCode.OFFER_NOT_EXPIRED, "the offer has not expired yet"))
    return out


def transition(
    *,
    proposal: Proposal,
    action: Action | str,
    actor: Actor,
    at: datetime,
    matrix: AuthorityMatrix,
    note: str = "",
    expires_at: datetime | None = None,
) -> Proposal:
    """Apply ``action`` and return the new proposal, its audit event appended.

    Raises
    ------
    TransitionError
        With every violation from :func:`validate`.
    """
    act = Action(action)
    violations = validate(proposal=proposal, action=act, actor=actor, at=at, matrix=matrix, expires_at=expires_at)
    if violations:
        raise TransitionError(violations)
    target = TRANSITIONS[(proposal.state, act)]
    event = AuditEvent(act, proposal.state, target, actor.user_id, actor.role, at, note)
    changes: dict[str, Any] = {"state": target, "history": (*proposal.history, event)}
    if act is Action.ENDORSE or (act is Action.REJECT and proposal.state is PlanState.PROPOSED):
        changes["endorser_id"] = actor.user_id
    elif act in (Action.APPROVE, Action.REJECT):
        changes["approver_id"] = actor.user_id
        changes["approver_role"] = actor.role
    elif act is Action.ESCALATE:
        changes["escalated_to"] = matrix.approvers_for(proposal.terms)
        changes["escalated_by_id"] = actor.user_id
    elif act is Action.OFFER:
        changes["offer_expires_at"] = expires_at
    return replace(proposal, **changes)
