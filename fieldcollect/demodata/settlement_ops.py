"""Demo of the agency operations of issue 23 (items 2, 5 and 6): contract versions with maker-checker,
penalty terms, a payment reversal clawed back, an invoice, and a batch recall waiting for approval.

One entry point, :func:`settlement_ops_demo`, called once after the business days were played (it
uses the demo logins ``manager`` and ``compliance`` and the agency managers); every write goes
through the audited services, as a user would make it on the pages.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from fieldcollect.agencies import services as contracts
from fieldcollect.agencies.models import AgencyContract, AgencyContractVersion
from fieldcollect.cases import batch
from fieldcollect.cases.models import Placement
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import Role, User
from fieldcollect.settlement import services as settlement
from fieldcollect.settlement.models import Invoice, PaymentReversal, Statement, StatementLine

DEMO_PENALTY_TERMS = {
    "complaint": 50_000,
    "complaint_serious": 200_000,
    "late_attestation": 20_000,
    "late_attestation_per_day": 1_000,
    "qa_finding": 30_000,
    "monthly_cap": 1_000_000,
}


def settlement_ops_demo(*, as_of: date) -> dict[str, int]:
    """Show items 2, 5 and 6 in the demo book; returns how many of each thing it made. Safe to call
    again (what exists is left as it is)."""
    made = {
        "versions_approved": 0,
        "versions_pending": 0,
        "reversals": 0,
        "invoices": 0,
        "batches_pending": 0,
    }
    manager = User.objects.filter(username="manager").first()
    compliance = User.objects.filter(username="compliance").first()
    if manager is None or compliance is None:
        return made
    day = max(as_of, timezone.localdate())
    for contract in AgencyContract.objects.filter(status=AgencyContract.Status.ACTIVE).order_by("agency_id"):
        if AgencyContractVersion.objects.filter(contract=contract, number__gt=1).exists():
            continue
        if not contract.starts_on <= day <= contract.ends_on:
            continue
        try:  # penalty terms agreed from today: proposed by the manager, approved by compliance
            v = contracts.contract_version_propose(
                contract=contract,
                effective_from=day,
                acting_user=manager,
                changes={"penalty_terms": DEMO_PENALTY_TERMS},
                note="penalty schedule agreed at the quarterly review",
            )
            contracts.contract_version_decide(
                version=v,
                decision="approve",
                acting_user=compliance,
                note="checked against the signed addendum",
            )
            made["versions_approved"] += 1
        except ApplicationError:
            continue
    first = AgencyContract.objects.filter(status=AgencyContract.Status.ACTIVE).order_by("agency_id").first()
    if (
        first is not None
        and not AgencyContractVersion.objects.filter(contract=first, state="pending").exists()
    ):
        fields = [f for f in (first.permitted_fields or []) if f != "address"]
        starts = day + timedelta(days=7)
        if fields and starts <= first.ends_on:
            try:  # a change waiting for the second person: address no longer shared from next week
                contracts.contract_version_propose(
                    contract=first,
                    effective_from=starts,
                    acting_user=manager,
                    changes={"permitted_fields": fields},
                    note="minimum necessary data: the address only for visits",
                )
                made["versions_pending"] += 1
            except ApplicationError:
                pass
    # a reversed payment whose commission an issued statement carried: clawed back next month
    line = (
        StatementLine.objects.filter(
            statement__status=Statement.Status.ISSUED, disputed=False, commission_fen__gt=0
        )
        .exclude(payment_id__in=PaymentReversal.objects.values("payment_id"))
        .select_related("payment")
        .order_by("-paid_on", "-id")
        .first()
    )
    if line is not None:
        try:
            settlement.payment_reverse(
                payment=line.payment,
                reversed_on=max(day, line.paid_on),
                reason="transfer returned by the paying bank",
                acting_user=manager,
            )
            made["reversals"] += 1
        except ApplicationError:
            pass
    # the agency invoices its issued statements
    for st in (
        Statement.objects.filter(status=Statement.Status.ISSUED)
        .exclude(pk__in=Invoice.objects.values("statement_id"))
        .select_related("agency")[:5]
    ):
        mgr = User.objects.filter(role=Role.AGENCY_MANAGER, agency_id=st.agency_id).first()
        if mgr is None:
            continue
        try:
            settlement.invoice_issue(statement=st, acting_user=mgr)
            made["invoices"] += 1
        except ApplicationError:
            pass
    # an early recall of a few cases: beyond the contract, it waits for a second manager
    if not batch.batches_visible_to(manager).filter(state="pending").exists():
        ids = list(
            Placement.objects.filter(status=Placement.Status.ACTIVE, ends_on__gt=day)
            .order_by("agency_id", "case_id")
            .values_list("case_id", flat=True)[:3]
        )
        if ids:
            try:
                b = batch.batch_create(
                    kind="recall",
                    case_ids=ids,
                    acting_user=manager,
                    reason="agency under review after complaints",
                    selection="demo",
                )
                made["batches_pending"] += b.state == "pending"
            except ApplicationError:
                pass
    return made
