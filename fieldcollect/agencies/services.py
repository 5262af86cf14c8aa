"""Agency contracts as versioned, audited records with maker-checker.

A contract is created as a draft with its version 1 awaiting approval; every change of terms is a new
version effective from a date, proposed by one person (a collections manager) and approved or
rejected by another (a collections manager or compliance officer, never the maker: the rule of
:mod:`fieldcollect.core.maker_checker`). Approving version 1 puts the contract in force. The version in
force on a date (:func:`fieldcollect.agencies.selectors.contract_terms`) decides access (permitted
fields), exports, placement and commission on that date. Each write and decision is audited in its
transaction; Django admin only reads these tables.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.agencies.errors import AgencyErrorCode
from fieldcollect.agencies.models import TERM_FIELDS, Agency, AgencyContract, AgencyContractVersion
from fieldcollect.agencies.selectors import version_in_force
from fieldcollect.analytics.delinquency import DEFAULT_RANGES
from fieldcollect.audit.services import audit_log
from fieldcollect.cases.selectors import FIELD_GATES
from fieldcollect.core import maker_checker as mc
from fieldcollect.core.decisions import check_decision, record_decision
from fieldcollect.core.denials import require_role
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import Role, User

MAKER_ROLES = frozenset({Role.COLLECTIONS_MANAGER})
CHECKER_ROLES = frozenset({Role.COLLECTIONS_MANAGER, Role.COMPLIANCE_OFFICER})
BUCKETS = tuple(r.classification for r in DEFAULT_RANGES if r.classification != "M0")
PERMITTED_FIELD_CHOICES = tuple(dict.fromkeys(FIELD_GATES.values()))
# the kinds of event a contract may price (fen per event; "_per_day" for each day late; a monthly cap)
PENALTY_KINDS = (
    "complaint",
    "complaint_serious",
    "late_attestation",
    "late_attestation_per_day",
    "qa_finding",
    "qa_finding_serious",
    "monthly_cap",
)


def _invalid(field: str, reason: str) -> ApplicationError:
    return ApplicationError(
        _("%(field)s: %(reason)s") % {"field": field, "reason": reason},
        code=AgencyErrorCode.CONTRACT_INVALID,
        extra={"field": field, "reason": reason},
    )


def _today() -> date:
    return timezone.localdate()


def may_make(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role in MAKER_ROLES)


def may_check(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role in CHECKER_ROLES)


def _require_maker(user: User) -> None:
    require_role(may_make(user))


def clean_terms(terms: dict[str, Any]) -> dict[str, Any]:
    """Validate contract terms (a subset of :data:`TERM_FIELDS`); returns them normalised or raises an
    error naming the field and the reason."""
    out: dict[str, Any] = {}
    for key, value in terms.items():
        if key not in TERM_FIELDS:
            raise _invalid(key, _("not a contract term"))
        if key in ("regions", "sub_processors"):
            if not isinstance(value, list | tuple) or not all(
                isinstance(v, str) and v.strip() for v in value
            ):
                raise _invalid(key, _("a list of names"))
            out[key] = [v.strip() for v in value]
        elif key == "eligible_buckets":
            bad = [b for b in value if b not in BUCKETS]
            if bad:
                raise _invalid(key, _("unknown bucket %(b)s") % {"b": bad[0]})
            out[key] = list(dict.fromkeys(value))
        elif key == "permitted_fields":
            bad = [f for f in value if f not in PERMITTED_FIELD_CHOICES]
            if bad:
                raise _invalid(key, _("unknown field %(f)s") % {"f": bad[0]})
            out[key] = list(dict.fromkeys(value))
        elif key in ("capacity", "placement_days", "max_retentions"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 10_000_000:
                raise _invalid(key, _("a whole number, zero or more"))
            if key == "placement_days" and not 1 <= value <= 366:
                raise _invalid(key, _("between 1 and 366 days"))
            out[key] = value
        elif key == "commission_tiers":
            tiers: dict[str, str] = {}
            for bucket, rate in dict(value).items():
                if bucket not in BUCKETS:
                    raise _invalid(key, _("unknown bucket %(b)s") % {"b": bucket})
                try:
                    r = Decimal(str(rate))
                except InvalidOperation:
                    raise _invalid(key, _("rate of %(b)s is not a number") % {"b": bucket}) from None
                if not r.is_finite() or r < 0 or r > 1 or r != r.quantize(Decimal("0.0001")):
                    raise _invalid(
                        key, _("rate of %(b)s must be between 0 and 1 (4 decimals)") % {"b": bucket}
                    )
                tiers[bucket] = str(r)
            out[key] = tiers
        elif key == "penalty_terms":
            pen: dict[str, int] = {}
            for kind, fen in dict(value).items():
                if kind not in PENALTY_KINDS:
                    raise _invalid(key, _("unknown penalty kind %(k)s") % {"k": kind})
                if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0:
                    raise _invalid(key, _("%(k)s must be whole fen, zero or more") % {"k": kind})
                pen[kind] = fen
            out[key] = pen
        elif key in ("dsa_signed_on", "dsa_valid_until", "pia_completed_on"):
            if value is not None and not isinstance(value, date):
                raise _invalid(key, _("a date"))
            out[key] = value
        else:  # pia_reference, pia_summary
            out[key] = str(value or "").strip()[: 100 if key == "pia_reference" else 4000]
    if (
        out.get("dsa_signed_on")
        and out.get("dsa_valid_until")
        and out["dsa_valid_until"] < out["dsa_signed_on"]
    ):
        raise _invalid("dsa_valid_until", _("before the agreement was signed"))
    return out


def _comparable(value: Any) -> Any:
    """Terms compared as stored (a commission rate "0.10" equals "0.1")."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            try:
                out[k] = Decimal(str(v))
            except InvalidOperation:
                out[k] = v
        return out
    return value


def _terms_dict(source: Any) -> dict[str, Any]:
    return {f: getattr(source, f) for f in TERM_FIELDS}


def _audit_terms(terms: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in terms.items()}


def contract_create(
    *,
    agency: Agency,
    reference: str,
    starts_on: date,
    ends_on: date,
    terms: dict[str, Any],
    acting_user: User,
    note: str = "",
) -> AgencyContract:
    """A new contract as a draft, with its version 1 awaiting a second person's approval."""
    _require_maker(acting_user)
    reference = reference.strip()
    if not reference:
        raise _invalid("reference", _("required"))
    if ends_on < starts_on:
        raise _invalid("ends_on", _("before the start"))
    clean = clean_terms(terms)
    with transaction.atomic():
        if AgencyContract.objects.filter(agency=agency, reference=reference).exists():
            raise _invalid("reference", _("already used for this agency"))
        contract = AgencyContract.objects.create(
            agency=agency,
            reference=reference[:64],
            status=AgencyContract.Status.DRAFT,
            starts_on=starts_on,
            ends_on=ends_on,
            **clean,
        )
        version = AgencyContractVersion.objects.create(
            contract=contract,
            number=1,
            effective_from=starts_on,
            state=AgencyContractVersion.State.PENDING,
            note=note[:500],
            made_by=acting_user,
            made_at=timezone.now(),
            **_terms_dict(contract),
        )
        audit_log(
            actor=acting_user,
            action="contract.create",
            object_type="agency_contract",
            object_id=contract.pk,
            new={
                "agency": agency.pk,
                "reference": contract.reference,
                "starts_on": starts_on.isoformat(),
                "ends_on": ends_on.isoformat(),
                "version": version.pk,
                **_audit_terms(clean),
            },
        )
    return contract


def _ensure_first_version(contract: AgencyContract) -> None:
    """A contract written before versions existed (or by the bank's export) is its own version 1."""
    if not contract.versions.exists():
        AgencyContractVersion.objects.create(
            contract=contract,
            number=1,
            effective_from=contract.starts_on,
            state=AgencyContractVersion.State.APPROVED,
            note="version 1 (as signed)",
            **_terms_dict(contract),
        )


def contract_version_propose(
    *,
    contract: AgencyContract,
    effective_from: date,
    changes: dict[str, Any],
    acting_user: User,
    note: str = "",
) -> AgencyContractVersion:
    """Propose new terms for ``contract`` from ``effective_from`` (today or later, within the
    contract): the terms in force on that date with ``changes`` applied, awaiting approval."""
    _require_maker(acting_user)
    clean = clean_terms(changes)
    if effective_from < _today():
        raise _invalid("effective_from", _("a change cannot take effect in the past"))
    if not contract.starts_on <= effective_from <= contract.ends_on:
        raise _invalid("effective_from", _("outside the contract's period"))
    if not note.strip():
        raise _invalid("note", _("say why the terms change"))
    with transaction.atomic():
        locked = AgencyContract.objects.select_for_update().get(pk=contract.pk)
        if locked.status == AgencyContract.Status.TERMINATED:
            raise _invalid("contract", _("the contract is terminated"))
        _ensure_first_version(locked)
        base = version_in_force(contract=locked, on=effective_from) or locked
        before = _terms_dict(base)
        clean = {k: v for k, v in clean.items() if _comparable(before[k]) != _comparable(v)}
        if not clean:
            raise _invalid("terms", _("nothing changes"))
        terms = {**before, **clean}
        number = (locked.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = AgencyContractVersion.objects.create(
            contract=locked,
            number=number,
            effective_from=effective_from,
            state=AgencyContractVersion.State.PENDING,
            note=note.strip()[:500],
            made_by=acting_user,
            made_at=timezone.now(),
            **terms,
        )
        old = {k: v for k, v in _audit_terms(_terms_dict(base)).items() if k in clean}
        audit_log(
            actor=acting_user,
            action="contract.version.propose",
            object_type="agency_contract",
            object_id=locked.pk,
            old=old,
            new={
                "version": version.pk,
                "number": number,
                "effective_from": effective_from.isoformat(),
                "note": version.note,
                **_audit_terms(clean),
            },
        )
    return version


_VIOLATION_MESSAGES = {
    mc.Violation.NOT_PENDING: lambda: _("This version has already been decided."),
    mc.Violation.SAME_PERSON: lambda: _("The person who proposed a change cannot approve it."),
    mc.Violation.ROLE_NOT_ALLOWED: lambda: _("Your role may not approve contract changes."),
    mc.Violation.NOT_MAKER: lambda: _("Only the person who proposed it may withdraw it."),
}


def contract_version_decide(
    *, version: AgencyContractVersion, decision: str, acting_user: User, note: str = ""
) -> AgencyContractVersion:
    """Approve or reject a proposed version (a second person), or withdraw it (its maker)."""
    with transaction.atomic():
        locked = (
            AgencyContractVersion.objects.select_for_update().select_related("contract").get(pk=version.pk)
        )
        check_decision(
            locked,
            decision=decision,
            acting_user=acting_user,
            checker_roles=CHECKER_ROLES,
            messages=_VIOLATION_MESSAGES,
            code=AgencyErrorCode.CONTRACT_DECISION,
            invalid=lambda: _invalid("decision", _("approve, reject or withdraw")),
        )
        if decision == mc.Decision.APPROVE and locked.effective_from < _today() and locked.number > 1:
            raise _invalid("effective_from", _("the date has passed: propose the change again"))
        old_state = record_decision(locked, decision=decision, acting_user=acting_user, note=note, note_length=500)
        contract = locked.contract
        if (
            locked.state == AgencyContractVersion.State.APPROVED
            and locked.number == 1
            and contract.status == AgencyContract.Status.DRAFT
        ):
            contract.status = AgencyContract.Status.ACTIVE
            contract.save(update_fields=["status"])
        audit_log(
            actor=acting_user,
            action=f"contract.version.{mc.Decision(decision).value}",
            object_type="agency_contract",
            object_id=contract.pk,
            old={"version": locked.pk, "state": old_state},
            new={
                "version": locked.pk,
                "state": locked.state,
                "number": locked.number,
                "effective_from": locked.effective_from.isoformat(),
                "note": locked.decision_note,
                "contract_status": contract.status,
            },
        )
    version.refresh_from_db()
    return version
