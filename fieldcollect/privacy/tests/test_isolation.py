"""Isolation test generated from the URL configuration.

Every page and API route (walked with ``django.urls.get_resolver``) is requested by every role with
the objects of its own agency (or its own cases, for a collector), of a peer collector of the same
agency, of another agency, and of a case its agency worked until the placement was recalled. A response must never carry the customer data of cases the role may
not see: the other agency's (and, for a collector, the peer's) customer ids, loan ids, names,
mobiles, ID numbers and addresses. A POST about another's object must not write anything (no new
audit entry), and no request may fail with a 5xx.

Each side's world holds what a leak would carry: a confirmed visit appointment (open now for the others,
in three days for a1, so that a1's own pages stay masked), a route plan whose GeoJSON has the customer's
home, an evidence file, and valid customer links (appointment, feedback, agreement). A response is
searched for the others' data in clear and masked (masked name, mobile and ID number) and for their homes'
coordinates; an agency user's response also for its own customers' mobile and ID number in clear (a page
must mask them outside a visit window). Besides the path, ids of others go into the query string of each
page (the parameters the view was seen to read, :func:`reads`) and into the body of each form the page
offers (POSTed to the form's action): nothing of theirs may come back and nothing of theirs may change.
Leaks that other items of issue 17 fix are listed in :data:`KNOWN`, each its own strict xfail case.

A new route is covered automatically: its parameters are filled by name from :data:`OBJECT_RULES`
(ids of objects built for each side) or :data:`VALUE_RULES` (fixed or discovered values).
:func:`test_every_route_parameter_has_a_rule` fails for a parameter name without a rule, so adding
a route with a new kind of id means adding a line here (and building that object in ``world``).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from fieldcollect.accounts.tokens import token_create
from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases import services
from fieldcollect.cases.models import Case, ContactAttempt, Note, Payment, Placement, PromiseToPay, Task
from fieldcollect.core.models import Role, User
from fieldcollect.plans import links as plan_links
from fieldcollect.portfolio.models import Customer, Loan
from fieldcollect.privacy import services as privacy
from fieldcollect.privacy.exports import export_table
from fieldcollect.privacy.masking import mask_id_number, mask_mobile, mask_name
from fieldcollect.qa import services as qa_services
from fieldcollect.testing import factories as f
from fieldcollect.visits import links as visit_links
from fieldcollect.visits.evidence import EvidenceIntake
from fieldcollect.visits.services import evidence_add_staged
from fieldcollect.visits.tests.samples import JPEG, MP3

pytestmark = pytest.mark.django_db

PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
SKIPPED_PREFIXES = ("admin/",)  # Django admin: staff only (checked in test_admin_is_staff_only)
BANK_ROLES = (Role.COLLECTIONS_MANAGER, Role.COMPLIANCE_OFFICER, Role.RISK_ANALYST, Role.AUDITOR)

# parameter name -> the kind of object (built per side in ``world``) whose id fills it
OBJECT_RULES: dict[str, str] = {
    "case_id": "case", "loan_id": "loan", "task_id": "task", "agency_id": "agency", "proposal_id": "proposal",
    "plan_id": "route_plan", "appointment_id": "appointment", "report_id": "visit_report",
    "statement_id": "statement", "line_id": "statement_line", "complaint_id": "complaint",
    "flag_id": "flag", "story_id": "story", "attestation_id": "attestation",
    "sub_processor_id": "sub_processor", "run_id": "allocation_run", "job_id": "job",
    "evidence_id": "evidence", "upload_id": "field_upload", "recording_id": "recording",
    "letter_id": "letter", "referral_id": "legal_referral", "alt_contact_id": "alt_contact",
    "contract_id": "contract", "version_id": "contract_version", "batch_id": "batch_action",
    "claim_id": "claim_reconciliation",
}
# kinds that belong to the agency, not to a case: for the revoked side "r" they are the agency's own
AGENCY_LEVEL = {"agency", "statement", "statement_line", "sub_processor", "attestation", "allocation_run",
                "contract", "contract_version", "batch_action", "claim_reconciliation",
                # a confirmed QA finding is the agency's conduct record (charged on its statement): the agency
                # appeals it after the case was recalled too
                "qa_finding"}
# routes that must name the revoked case's ids (not its customer data): the deletion attestation lists
# the cases and loans whose data the agency has to delete
REVOKED_ID_REFERENCES = {"attestation"}
# routes whose 5xx is an answer, not a failure: the readiness probe says "not ready" with 503
EXPECTED_5XX = {"readyz": {503}, "healthz": {503}}
# parameter name -> values that are not ids: fixed, or discovered from links in the pages ("discover")
VALUE_RULES: dict[str, list[str] | str] = {
    "fmt": ["csv", "xlsx"],
    "token": ["not-a-valid-token-0000"],  # customer capability links: an unknown token must be 404
    "uidb64": ["MQ"],
    "action": ["acknowledge", "agency_response", "entry", "resolve"],
    "purpose": "discover", "version": "discover", "key": "discover", "table": "discover",
}


# ---------------------------------------------------------------------------------------- routes

@dataclass(frozen=True)
class Route:
    pattern: str  # e.g. "cases/<int:case_id>/"
    name: str

    @property
    def params(self) -> list[str]:
        return [m.group("name") for m in PARAM.finditer(self.pattern)]

    def regex(self) -> re.Pattern[str]:
        out, pos = "", 0
        for m in PARAM.finditer(self.pattern):
            out += re.escape(self.pattern[pos:m.start()]) + f"(?P<{m.group('name')}>[^/?#\"'.]+)"
            pos = m.end()
        return re.compile("^/" + out + re.escape(self.pattern[pos:]) + "$")

    def url(self, values: dict[str, Any]) -> str:
        return "/" + PARAM.sub(lambda m: str(values[m.group("name")]), self.pattern)


def all_routes() -> list[Route]:
    def walk(resolver: URLResolver, prefix: str) -> Iterator[Route]:
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                yield from walk(p, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield Route(prefix + str(p.pattern).lstrip("^").rstrip("$"), p.name or "")
    seen: dict[str, Route] = {}
    for route in walk(get_resolver(), ""):
        if not route.pattern.startswith(SKIPPED_PREFIXES):
            seen.setdefault(route.pattern, route)
    return list(seen.values())


def test_every_route_parameter_has_a_rule():
    missing = sorted({f"{r.pattern} ({p})" for r in all_routes() for p in r.params
                      if p not in OBJECT_RULES and p not in VALUE_RULES})
    assert not missing, ("routes with a parameter the isolation test cannot fill; add a rule to OBJECT_RULES "
                         "or VALUE_RULES in fieldcollect/privacy/tests/test_isolation.py: " + ", ".join(missing))


# ----------------------------------------------------------------------------------------- world

def _auto_value(fld: models.Field, n: int) -> Any:
    if fld.choices:
        return fld.choices[0][0]
    if isinstance(fld, models.BooleanField):
        return False
    if isinstance(fld, (models.IntegerField, models.BigIntegerField, models.PositiveIntegerField,
                        models.SmallIntegerField, models.PositiveSmallIntegerField)):
        return 1
    if isinstance(fld, models.FloatField):
        return 1.0
    if isinstance(fld, models.DecimalField):
        return Decimal("1")
    if isinstance(fld, models.DateTimeField):
        return timezone.now()
    if isinstance(fld, models.DateField):
        return timezone.localdate()
    if isinstance(fld, models.JSONField):
        return {}
    if isinstance(fld, (models.CharField, models.TextField)):
        return f"iso{n}"[: fld.max_length or 20]
    return None


_counter = iter(range(10_000, 10_000_000))


def make(model_label: str, **given: Any) -> models.Model:
    """Create a row of ``model_label`` ("app.Model") filling every required field not given with a
    plain value (so that the world survives new required fields in other apps' models)."""
    model = apps.get_model(model_label)
    n = next(_counter)
    values = dict(given)
    for fld in model._meta.concrete_fields:
        if fld.name in values or f"{fld.name}_id" in values or fld.attname in values:
            continue
        if fld.primary_key and isinstance(fld, models.AutoField):
            continue
        if fld.unique and not fld.primary_key and not fld.is_relation and isinstance(fld, models.CharField):
            values[fld.name] = f"iso{n}"[: fld.max_length or 20]
            continue
        if fld.null or fld.has_default() or getattr(fld, "auto_now", False) or getattr(fld, "auto_now_add", False):
            continue
        if fld.db_default is not models.NOT_PROVIDED:
            continue
        if fld.is_relation:
            raise AssertionError(f"{model_label}.{fld.name} is required: give it to make()")
        values[fld.name] = n if fld.primary_key else _auto_value(fld, n)
    return model.objects.create(**values)


@dataclass
class Side:
    """The objects of one side: a1 (collector a1 of agency A), a2 (peer collector a2 of A), b (agency B),
    r (a case of A and a1 whose placement was recalled: revoked)."""

    name: str
    agency: Any
    manager: User
    collector_user: User
    collector: Any
    case: Case
    objects: dict[str, Any] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)  # clear: ids, name, mobile, ID number, address, lat, lon
    masked: list[str] = field(default_factory=list)  # the masked name, mobile and ID number
    tokens: dict[str, str] = field(default_factory=dict)  # valid customer links: appointment, feedback, agreement

    @property
    def clear_pii(self) -> list[str]:
        """What a page must mask even for the case's own agency and collector: the mobile and the ID number
        (clear only to a bank role that states a purpose, or inside a confirmed visit window)."""
        return self.markers[3:5]

    @property
    def everything(self) -> list[str]:
        return [*self.markers, *self.masked]


@dataclass
class World:
    sides: dict[str, Side]
    users: dict[str, User]
    discovered: dict[str, set[tuple[tuple[str, str], ...]]] = field(default_factory=dict)


MARK_BASE = {"a1": 7_100_000_000, "a2": 7_200_000_000, "b": 7_300_000_000, "r": 7_400_000_000}
SIDE_DIGIT = {"a1": "1", "a2": "2", "b": "3", "r": "4"}
SURNAMES = {"a1": "甲一", "a2": "乙二", "b": "丙三", "r": "丁四"}


def _customer_case(side: str, agency: Any, manager: User, collector: Any, cm: User) -> tuple[Case, list[str]]:
    """The side's customer and case. Every value differs between sides in clear and masked (the masked
    name keeps the first and last character, the masked mobile and ID number the last four digits)."""
    base, d = MARK_BASE[side], SIDE_DIGIT[side]
    name = f"{SURNAMES[side][0]}隔离客户{SURNAMES[side][1]}"
    mobile = f"1390000{d * 4}"
    id_number = f"510105198501{d * 2}{d * 4}"
    address = f"隔离路{side}{base % 1000}号"
    lat, lon = f"31.2{d}1357", f"121.4{d}2468"
    customer = Customer.objects.create(customer_id=base + 1, name=name, id_number=id_number, mobile=mobile,
                                       province="上海", city="上海", district="浦东新区", address=address,
                                       lat=float(lat), lon=float(lon))
    loan = Loan.objects.create(loan_id=base + 2, customer=customer, product="消费贷", principal_fen=5_000_000,
                               annual_rate=Decimal("0.18"), term_months=12, method=Loan.Method.EQUAL_INSTALMENT,
                               disbursed_on=timezone.localdate() - timedelta(days=300))
    case = f.make_case(loan=loan, customer=customer)
    services.case_place(case=case, agency=agency, acting_user=cm)
    services.case_assign(case=case, collector=collector, acting_user=manager)
    case.refresh_from_db()
    return case, [str(base + 1), str(base + 2), name, mobile, id_number, address, lat, lon]


def _build_objects(side: Side, cm: User, run: Any) -> None:
    case, user, collector, agency = side.case, side.collector_user, side.collector, side.agency
    today = timezone.localdate()
    o = side.objects
    o["case"] = case
    o["loan"] = case.loan
    o["agency"] = agency
    o["collector"] = collector
    o["task"] = Task.objects.create(case=case, agency=agency, assignee=user, title=f"task {side.name}", due_on=today)
    contact = ContactAttempt.objects.create(case=case, agency=agency, collector=collector, channel="phone",
                                            at=timezone.now() - timedelta(hours=1), outcome="promise",
                                            number=side.markers[3], recorded_by=user, notes=side.markers[2])
    PromiseToPay.objects.create(case=case, contact=contact, agency=agency, amount_fen=10_000, due_on=today,
                                promised_on=today, recorded_by=user)
    Note.objects.create(case=case, author=user, body=f"note {side.markers[2]}")
    hardship = make("plans.Hardship", case=case, recorded_by=user)
    o["proposal"] = make("plans.RestructuringProposal", case=case, hardship=hardship, agency=agency, maker=user)
    nonce, expires_at = plan_links.new_nonce(), timezone.now() + timedelta(days=7)
    agreement = make("plans.PlanAgreement", proposal=o["proposal"], pdf=b"%PDF-1.4 isolation", sha256="0" * 64,
                     link_nonce=nonce, issued_at=timezone.now(), expires_at=expires_at)
    side.tokens["agreement"] = plan_links.make_link_token(agreement_id=agreement.pk, nonce=nonce,
                                                          expires_at=expires_at)
    # a confirmed appointment: its window is open now for the others (a visit window unmasks the customer
    # for its own collector only); a1's visit is in three days, outside the window of a day before and
    # after it (a1's own pages must therefore stay masked)
    now = timezone.now()
    start = now + timedelta(days=3) if side.name == "a1" else now - timedelta(hours=1)
    window = [start.isoformat(), (start + timedelta(hours=2)).isoformat()]
    o["appointment"] = make("visits.Appointment", case=case, collector=collector, created_by=user, windows=[window],
                            status="confirmed", chosen_start=start, chosen_end=start + timedelta(hours=2),
                            responded_at=now, expires_at=now + timedelta(days=7))
    side.tokens["appointment"] = _link(o["appointment"], "appointment")
    o["visit_report"] = make("visits.VisitReport", case=case, collector=collector, appointment=o["appointment"],
                             created_by=user)
    # an evidence file (sealed at rest) whose content carries the side's customer data
    staged = EvidenceIntake().read_from(io.BytesIO(JPEG + ",".join(side.markers).encode()))
    o["evidence"] = evidence_add_staged(report=o["visit_report"], acting_user=user, staged=staged,
                                        name=f"evidence-{side.markers[2]}.jpg")
    # a call recording (sealed at rest) whose audio carries the side's customer data, with a transcript
    audio = EvidenceIntake().read_from(io.BytesIO(MP3 + ",".join(side.markers).encode()))
    qa_services.store_staged(audio)
    o["recording"] = make("qa.Recording", agency=agency, case=case, collector=collector, source="dialler",
                          dialler_id=f"iso-{side.name}", phone=side.markers[3], started_at=now - timedelta(hours=2),
                          ended_at=now - timedelta(hours=1), sha256=audio.sha256, size=audio.size,
                          content_type=audio.mime)
    qa_services.transcript_import(recording=o["recording"], acting_user=None, payload={"language": "zh", "segments": [
        {"speaker": "collector", "start_s": 0, "end_s": 5, "text": f"{side.markers[2]}，你欠了{side.markers[3]}"}]})
    # a confirmed finding of that recording (the QA queue, appeals and conduct dashboard show it to its agency)
    form = make("qa.ScoringForm", pack=f"I{side.name}"[:8], version=1, items=[])
    review = make("qa.Review", recording=o["recording"], reviewer=cm, form=form, answers={}, score=0, verdict="fail")
    o["qa_finding"] = make("qa.ConfirmedFinding", review=review, recording=o["recording"], agency=agency,
                           collector=collector, category="abuse", severity="major", confirmed_at=now)
    # an evidence upload from the collector app, half sent
    o["field_upload"] = make("visits.FieldUpload", collector=collector, client_id=f"iso-{side.name}",
                             report_client_id=f"iso-report-{side.name}", kind="photo", size=10, sha256="0" * 64,
                             received=4)
    o["feedback"] = make("visits.FeedbackRequest", case=case, report=o["visit_report"], collector=collector,
                         agency=agency, expires_at=now + timedelta(days=7))
    side.tokens["feedback"] = _link(o["feedback"], "feedback")
    partner = f.make_collector(agency=agency)  # a team is two people; the partner has no cases here
    team = make("visits.Team", agency=agency, member_a=collector, member_b=partner, created_by=side.manager)
    lat, lon = float(side.markers[6]), float(side.markers[7])
    o["route_plan"] = make("visits.RoutePlan", team=team, created_by=side.manager, geojson={
        "type": "FeatureCollection", "features": [{
            "type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"kind": "stop", "status": "planned", "team_id": team.pk, "order": 1,
                           "visit_id": f"iso-{case.pk}"}}]})  # the shape routes.day_plan_geojson writes
    make("visits.RouteStop", plan=o["route_plan"], case=case, appointment=o["appointment"], order=1,
         visit_id=f"iso-{case.pk}")
    placement = Placement.objects.get(case=case, status="active")
    payment = Payment.objects.create(loan=case.loan, case=case, placement=placement, paid_on=today, amount_fen=5_000,
                                     reference=f"iso-{side.name}")
    o["statement"] = (apps.get_model("settlement.Statement").objects.filter(agency=agency).first()
                      or make("settlement.Statement", agency=agency, created_by=cm))
    o["statement_line"] = make("settlement.StatementLine", statement=o["statement"], payment=payment,
                               placement=placement)
    o["contract"] = apps.get_model("agencies.AgencyContract").objects.filter(agency=agency).first()
    o["contract_version"] = (apps.get_model("agencies.AgencyContractVersion").objects.filter(contract=o["contract"])
                             .first() or make("agencies.AgencyContractVersion", contract=o["contract"], number=2,
                                              effective_from=today, state="pending", made_by=cm,
                                              permitted_fields=["name"], note=f"v {side.name}"))
    o["batch_action"] = make("cases.BatchAction", kind="assign", agency=agency, collector=collector, made_by=side.manager,
                             made_at=now, case_ids=[case.pk], selection=f"file {side.markers[2]}.csv",
                             outcomes={str(case.pk): {"ok": True}})
    o["claim_reconciliation"] = make("settlement.ClaimReconciliation", statement=o["statement"], uploaded_by=cm,
                                     file_name=f"claim-{side.name}.csv", sha256="0" * 64,
                                     differences=[{"kind": "not_claimed", "payment_id": payment.pk, "row": None,
                                                   "claimed": None, "statement": 1}], errors=[])
    o["complaint"] = make("complaints.Complaint", customer=case.customer, case=case, agency=agency, collector=collector,
                          created_by=cm)
    o["flag"] = make("compliance.DebtorFlag", customer=case.customer, created_by=cm)
    # a letter (its addressee and address are the customer's), a legal referral and an alternate contact
    # (the customer's own mobile: shown masked only)
    letter_contact = ContactAttempt.objects.create(case=case, agency=agency, channel="letter", outcome="letter_sent",
                                                   at=now - timedelta(hours=2), number=side.markers[5][:32],
                                                   recorded_by=user)
    o["letter"] = make("legal.Letter", case=case, contact=letter_contact, kind="demand", reference=f"L-iso-{side.name}",
                       addressee=side.markers[2], address=side.markers[5], sent_at=now - timedelta(hours=2),
                       created_by=cm, facts={"letter_date": today.isoformat(), "loan_ref": side.markers[1],
                                             "overdue_fen": 100_000, "dpd": 40, "pay_by": today.isoformat()})
    o["legal_referral"] = make("legal.LegalReferral", case=case, customer=case.customer, kind="litigation",
                               forum=f"法院 {side.name}", claim_fen=100_000, referred_on=today, status="closed",
                               created_by=cm)
    o["alt_contact"] = make("legal.AltContact", customer=case.customer, case=case, kind="phone", value=side.markers[3],
                            source="customer", created_by=cm)
    o["story"] = make("caselibrary.CaseStory", case=case, agency=agency, created_by=side.manager)
    o["sub_processor"] = make("privacy.SubProcessor", agency=agency, registered_by=side.manager,
                              name=f"sp {side.name}")
    make("allocation.AllocationDecision", run=run, case=case, agency=agency)
    o["allocation_run"] = run
    # a finished export job of the bank's collections manager whose file lists this side's customer
    from fieldcollect.ops.exports import default_export_path, publish
    from fieldcollect.ops.models import Job, JobStatus

    out = default_export_path(f"isolation-{side.name}")
    o["job"] = Job.objects.create(kind="export", status=JobStatus.DONE, progress=1.0, created_by=cm,
                                  result={"path": str(out), "rows": 1,
                                          "sha256": publish(out, ",".join(side.markers).encode())})
    export_table(user=side.manager, purpose="isolation", name="cases", columns=["case_id", "customer_name"],
                 rows=[[case.pk, side.markers[2]]], fmt="csv")


def _link(obj: Any, purpose: str) -> str:
    """A valid customer link for ``obj`` (an appointment or a feedback request), as the outbox sends it."""
    obj.nonce = visit_links.new_nonce()
    token = visit_links.make_token(purpose=purpose, object_id=obj.pk, nonce=obj.nonce,  # type: ignore[arg-type]
                                   expires_at=timezone.now() + timedelta(days=7))
    obj.token_hash = visit_links.token_hash(token)
    obj.save(update_fields=["nonce", "token_hash"])
    return token


def _with_attestation(side: Side, cm: User) -> None:
    """A recalled extra case of the side's agency gives the side an attestation."""
    extra = f.make_case()
    services.case_place(case=extra, agency=side.agency, acting_user=cm)
    services.case_recall(case=extra, reason="isolation", acting_user=cm)
    side.objects["attestation"] = privacy.DeletionAttestation.objects.filter(agency=side.agency).latest("id")


def _masked(markers: list[str]) -> list[str]:
    return [mask_name(markers[2]), mask_mobile(markers[3]), mask_id_number(markers[4])]


@pytest.fixture
def world(fc_home) -> World:
    users: dict[str, User] = {str(role): f.make_user(role=role, username=f"iso_{role}") for role in BANK_ROLES}
    cm = users[Role.COLLECTIONS_MANAGER]
    agency_a, agency_b = f.make_agency(name="隔离甲机构"), f.make_agency(name="隔离丙机构")
    f.make_contract(agency=agency_a)
    f.make_contract(agency=agency_b)
    mgr_a = f.make_user(role=Role.AGENCY_MANAGER, agency=agency_a, username="iso_mgr_a")
    mgr_b = f.make_user(role=Role.AGENCY_MANAGER, agency=agency_b, username="iso_mgr_b")
    cu_a1, col_a1 = f.make_collector_user(agency=agency_a)
    cu_a2, col_a2 = f.make_collector_user(agency=agency_a)
    cu_b, col_b = f.make_collector_user(agency=agency_b)
    run = make("allocation.AllocationRun", created_by=cm)
    sides = {}
    for name, agency, mgr, cu, col in (("a1", agency_a, mgr_a, cu_a1, col_a1), ("a2", agency_a, mgr_a, cu_a2, col_a2),
                                       ("b", agency_b, mgr_b, cu_b, col_b)):
        case, markers = _customer_case(name, agency, mgr, col, cm)
        sides[name] = Side(name=name, agency=agency, manager=mgr, collector_user=cu, collector=col, case=case,
                           markers=markers, masked=_masked(markers))
    # r: a case that agency A (collector a1) worked and that was then recalled: A no longer sees it
    case_r, markers_r = _customer_case("r", agency_a, mgr_a, col_a1, cm)
    sides["r"] = Side(name="r", agency=agency_a, manager=mgr_a, collector_user=cu_a1, collector=col_a1, case=case_r,
                      markers=markers_r, masked=_masked(markers_r))
    for side in sides.values():
        _build_objects(side, cm, run)
        _with_attestation(side, cm)
    services.case_recall(case=case_r, reason="revoked in the isolation test", acting_user=cm)
    users |= {"agency_manager": mgr_a, "field_collector": cu_a1}
    return World(sides=sides, users=users)


# ------------------------------------------------------------------------------------ requests

def _client(user: User) -> Client:
    secret = token_create(user=user, name="isolation")[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.force_login(user)
    return client


def _text_of(response: Any) -> str | None:
    """The text a person could read in the response (``None`` for a binary body we cannot read)."""
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    ctype = response.get("Content-Type", "")
    if body[:2] == b"PK" and zipfile.is_zipfile(io.BytesIO(body)):
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(body))
        return "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row
                         if v is not None)
    if "pdf" in ctype or body[:4] == b"%PDF" or "image/" in ctype:
        return None
    return body.decode("utf-8", errors="replace")


def _links(text: str) -> set[str]:
    return set(re.findall(r"""(?:href|src|action|hx-get|hx-post)=["'](/[^"'#]*)""", text))


def _discover(world: World, routes: list[Route]) -> dict[str, list[dict[str, str]]]:
    """Values for 'discover' parameters: the links that the bank's and the agency's pages carry."""
    found: dict[str, list[dict[str, str]]] = {}
    needing = [r for r in routes if any(VALUE_RULES.get(p) == "discover" for p in r.params)]
    if not needing:
        return found
    links: set[str] = set()
    pages = [r for r in routes if not r.params]
    for user in (world.users[Role.COLLECTIONS_MANAGER], world.users["agency_manager"]):
        client = _client(user)
        queue = [r.url({}) for r in pages]
        seen: set[str] = set()
        while queue and len(seen) < 400:
            url = queue.pop()
            if url in seen:
                continue
            seen.add(url)
            resp = client.get(url)
            if resp.status_code != 200 or "html" not in resp.get("Content-Type", ""):
                continue
            new = {link.split("?")[0] for link in _links(resp.content.decode("utf-8", "replace"))}
            links |= new
            queue.extend(u for u in new if u not in seen and any(r.regex().match(u) for r in needing))
    for route in needing:
        rx = route.regex()
        found[route.pattern] = [m.groupdict() for link in sorted(links) if (m := rx.match(link))]
    return found


@dataclass(frozen=True)
class Actor:
    key: str  # a role, or "agency_manager" / "field_collector" (of agency A; collector a1)
    own: str | None  # the side that is its own
    others: tuple[str, ...]  # sides whose data it must never receive


ACTORS = (
    *(Actor(str(role), None, ()) for role in BANK_ROLES),
    Actor("agency_manager", "a1", ("b", "r")),
    Actor("field_collector", "a1", ("a2", "b", "r")),
)


def _fill(route: Route, world: World, side: str, discovered: dict[str, list[dict[str, str]]]) -> list[dict[str, Any]]:
    """Parameter sets for ``route`` with the objects of ``side``."""
    base: dict[str, Any] = {}
    for p in route.params:
        if p in OBJECT_RULES:
            base[p] = world.sides[side].objects[OBJECT_RULES[p]].pk
    combos: list[dict[str, Any]] = [base]
    value_params = [p for p in route.params if p not in OBJECT_RULES]
    if any(VALUE_RULES[p] == "discover" for p in value_params):
        sets = discovered.get(route.pattern, [])
        combos = [base | {p: s[p] for p in value_params} for s in sets] or [base | dict.fromkeys(value_params, "unknown")]
        return combos[:12]
    for p in value_params:
        values = VALUE_RULES[p]
        assert isinstance(values, list)
        combos = [c | {p: v} for c in combos for v in values]
    return combos


# query and form parameter name -> the kind of object whose id it carries (swapped for another's id)
PARAM_KINDS: dict[str, str] = {
    **OBJECT_RULES, "case": "case", "agency": "agency", "collector": "collector", "loan": "loan", "task": "task",
    "appointment": "appointment", "plan": "route_plan", "report": "visit_report", "statement": "statement",
    "complaint": "complaint", "story": "story", "run": "allocation_run", "assignee": "collector_user",
    "finding": "qa_finding",
}
# routes whose own-side page may show the caller's own customer in clear (none today: a visit window or a
# stated purpose is needed, and a1's confirmed window is tomorrow)
OWN_CLEAR_ALLOWED: set[str] = set()
# known leaks fixed by other items of issue 17 (other branches): each is its own xfail case below
# (reason, route patterns); remove an entry once its fix is merged (the xfail is strict)
KNOWN: dict[str, tuple[str, ...]] = {}


@contextmanager
def reads() -> Iterator[set[str]]:
    """The names looked up in any QueryDict (``request.GET``/``request.POST``, forms, templates) while the
    block runs: the parameters a view reads."""
    names: set[str] = set()
    originals = {m: getattr(QueryDict, m) for m in ("get", "__getitem__", "getlist", "__contains__")}

    def wrap(method: str) -> Any:
        original = originals[method]

        def recording(self: QueryDict, key: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(key, str):
                names.add(key)
            return original(self, key, *args, **kwargs)

        return recording

    for m in originals:
        setattr(QueryDict, m, wrap(m))
    try:
        yield names
    finally:
        for m, original in originals.items():
            setattr(QueryDict, m, original)


FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
FIELD = re.compile(r"<(input|select|textarea)\b([^>]*)>", re.I)
ATTR = re.compile(r"""(\w[\w-]*)=["']([^"']*)["']""")


def _forms(html: str) -> list[tuple[str, dict[str, str]]]:
    """(action, fields with their default values) of each POST form of a page."""
    found = []
    for attrs, body in FORM.findall(html):
        a = dict(ATTR.findall(attrs))
        if a.get("method", "get").lower() != "post" or not a.get("action", "").startswith("/"):
            continue
        fields: dict[str, str] = {}
        for _tag, fattrs in FIELD.findall(body):
            fa = dict(ATTR.findall(fattrs))
            if fa.get("name") and fa.get("name") != "csrfmiddlewaretoken":
                fields.setdefault(fa["name"], fa.get("value", "1"))
        found.append((a["action"], fields))
    return found


def _swapped(names: Any, world: World, side: str) -> dict[str, str]:
    """The id-carrying parameters among ``names`` set to the ids of ``side``'s objects (for the revoked side
    not its agency-level ones: those are the caller's agency's own)."""
    objects = world.sides[side].objects | {"collector_user": world.sides[side].collector_user}
    if side == "r":
        objects = {k: v for k, v in objects.items() if k not in AGENCY_LEVEL}
    return {n: str(objects[PARAM_KINDS[n]].pk) for n in names if PARAM_KINDS.get(n) in objects}


def _state(world: World) -> dict[str, tuple[Any, ...]]:
    """What a write about another's object would change: each side's case, appointment and QA finding."""
    out = {}
    for name, side in world.sides.items():
        case = Case.objects.get(pk=side.case.pk)
        appt = apps.get_model("visits.Appointment").objects.get(pk=side.objects["appointment"].pk)
        finding = apps.get_model("qa.ConfirmedFinding").objects.get(pk=side.objects["qa_finding"].pk)
        out[name] = (case.agency_id, case.collector_id, case.status, case.version, appt.status, appt.collector_id,
                     finding.appeal, finding.appeal_proposal)
    return out


def _forbidden(world: World, actor: Actor) -> list[str]:
    """What ``actor`` must never receive: everything of the others' customers, in clear and masked, and their
    homes' coordinates; for an agency user also its own agency's customers' mobile and ID number in clear."""
    out = [m for s in actor.others for m in world.sides[s].everything]
    if actor.own:
        own_agency = [n for n, s in world.sides.items() if n not in actor.others and s.agency == world.sides[actor.own].agency]
        out += [m for n in own_agency for m in world.sides[n].clear_pii]
    return out


def _check_routes(world: World, routes: list[Route]) -> tuple[list[str], dict[str, int]]:
    """The failures of every actor on ``routes``, and how many requests of each kind were made."""
    discovered = _discover(world, routes)
    failures: list[str] = []
    requests = 0
    swaps = {"query": 0, "form": 0}
    for actor in ACTORS:
        user = world.users[actor.key]
        client = _client(user)
        forbidden = _forbidden(world, actor)
        sides = [actor.own, *actor.others] if actor.own else ["b"]
        for route in routes:
            if any(p not in OBJECT_RULES and p not in VALUE_RULES for p in route.params):
                continue  # reported by test_every_route_parameter_has_a_rule
            kinds = {OBJECT_RULES[p] for p in route.params if p in OBJECT_RULES}
            route_sides = sides if kinds else [sides[0]]
            for side in route_sides:
                if side == "r" and kinds <= AGENCY_LEVEL:
                    continue  # the agency's own objects (tested with side a1)
                route_forbidden = forbidden
                if route.name in REVOKED_ID_REFERENCES:
                    route_forbidden = [m for m in forbidden if m not in world.sides["r"].markers[:2]]
                if route.name in OWN_CLEAR_ALLOWED:
                    route_forbidden = [m for m in route_forbidden if any(m in world.sides[s].everything
                                                                        for s in actor.others)]
                foreign = side in actor.others
                for values in _fill(route, world, side, discovered):
                    url = route.url(values)
                    methods = ("get", "post") if foreign and any(p in OBJECT_RULES for p in route.params) else ("get",)
                    for method in methods:
                        requests += 1
                        with reads() as names:
                            resp, _where, found = _request(client, method, url, {}, world, actor, route, side,
                                                           route_forbidden)
                        failures += found
                        if foreign or actor.own is None or method == "post" or resp is None:
                            continue
                        # the caller's own page, with another's ids in the query string and in each form's body
                        for other in actor.others:
                            query = _swapped(names, world, other)
                            if query:
                                requests += 1
                                swaps["query"] += 1
                                failures += _request(client, "get", url, query, world, actor, route, other,
                                                     route_forbidden)[2]
                            text = _text_of(resp) or ""
                            for action, fields in _forms(text) if "html" in resp.get("Content-Type", "") else []:
                                body = fields | _swapped(fields, world, other)
                                if body != fields:
                                    requests += 1
                                    swaps["form"] += 1
                                    failures += _request(client, "post", action, body, world, actor, route, other,
                                                         route_forbidden)[2]
    return failures, swaps | {"requests": requests}


def _request(client: Client, method: str, url: str, data: dict[str, str], world: World, actor: Actor, route: Route,
             side: str, forbidden: list[str]) -> tuple[Any, str, list[str]]:
    """One request; its failures: a 5xx, forbidden data in the answer, a write about another's object."""
    failures: list[str] = []
    audit_mark = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    before = _state(world) if method == "post" else {}
    resp = getattr(client, method)(url, data, follow=False)
    where = f"{actor.key} {method.upper()} {url} {data or ''} [{side}] -> {resp.status_code}"
    if resp.status_code >= 500 and resp.status_code not in EXPECTED_5XX.get(route.name, ()):
        return resp, where, [f"{where}: server error"]
    text = _text_of(resp)
    foreign = side in actor.others
    if text is None:
        if foreign and resp.status_code < 300 and any(p in OBJECT_RULES for p in route.params):
            failures.append(f"{where}: a binary file about another's object")
    else:
        leaked = [m for m in forbidden if m in text]
        if leaked:
            failures.append(f"{where}: contains {leaked}")
    if method == "post" and foreign:
        writes = list(AuditEntry.objects.filter(id__gt=audit_mark).exclude(
            action__regex=r"^(login|logout|auth|token)").values_list("action", flat=True))
        after = _state(world)
        changed = [s for s in actor.others if before[s] != after[s]]
        own = actor.own
        if own and after[own][1] is not None and \
                apps.get_model("agencies.Collector").objects.get(pk=after[own][1]).agency_id != after[own][0]:
            changed.append(f"{own} (its case now has another agency's collector)")
        if (data and changed) or (not data and writes):
            failures.append(f"{where}: wrote {writes} changing {changed or 'nothing'} with another's object")
    return resp, where, failures


ROUTE_GROUPS = [pytest.param(None, id="all-routes"),
                *(pytest.param(name, id=name, marks=pytest.mark.xfail(strict=True, reason=reason))
                  for name, (reason, *_) in KNOWN.items())]


@pytest.mark.parametrize("group", ROUTE_GROUPS)
def test_no_route_returns_data_of_another_agency_or_collector(world, group):
    """``group`` None: every route except the known leaks of :data:`KNOWN`, each of which is its own case."""
    known = {p for _reason, *patterns in KNOWN.values() for p in patterns}
    routes = [r for r in all_routes() if (r.pattern not in known if group is None else r.pattern in KNOWN[group][1:])]
    failures, counts = _check_routes(world, routes)
    if group is None:  # the checks ran: requests, and ids of others in query strings and in form bodies
        assert counts["requests"] > 200 and counts["query"] >= 10 and counts["form"] >= 2, counts
    assert not failures, f"{len(failures)} isolation failures:\n" + "\n".join(failures[:80])


def test_customer_links_show_only_their_customer(world):
    """A valid customer link (appointment, feedback, agreement) shows its own customer only, to anyone who
    holds it; used on a route of another kind it opens nothing."""
    kind_of = {"visits/a/": "appointment", "visits/f/": "feedback", "complaints/c/": "feedback", "plans/a/": "agreement"}
    routes = [r for r in all_routes() if "token" in r.params and not r.pattern.startswith("accounts/")]
    assert routes and all(any(r.pattern.startswith(k) for k in kind_of) for r in routes), routes
    failures: list[str] = []
    opened: set[str] = set()
    for route in routes:
        route_kind = next(v for k, v in kind_of.items() if route.pattern.startswith(k))
        for name, side in world.sides.items():
            others = [m for n, s in world.sides.items() if n != name for m in s.everything]
            for kind, token in side.tokens.items():
                for values in _fill(route, world, name, {}):
                    url = route.url(values | {"token": token})
                    resp = Client().get(url)
                    where = f"GET {url[:70]}… [{name} {kind}] -> {resp.status_code}"
                    if resp.status_code >= 500:
                        failures.append(f"{where}: server error")
                        continue
                    text = _text_of(resp) or ""
                    if kind == route_kind and resp.status_code == 200:
                        opened.add(route.pattern)
                    if kind != route_kind and resp.status_code < 300:
                        failures.append(f"{where}: a {kind} link opens a {route_kind} page")
                    leaked = [m for m in (others if kind == route_kind else others + side.everything) if m in text]
                    if leaked:
                        failures.append(f"{where}: contains {leaked}")
    # the links are valid: each customer page opens with its own kind of link (the others answer POST only)
    assert {"visits/a/<str:token>/", "visits/f/<str:token>/", "complaints/c/<str:token>/",
            "plans/a/<str:token>/"} <= opened, opened
    assert not failures, f"{len(failures)} customer link failures:\n" + "\n".join(failures[:60])


def test_admin_is_staff_only(world):
    for key, user in world.users.items():
        resp = _client(user).get("/admin/")
        assert resp.status_code == 302 and "/login" in resp["Location"], key


def test_world_objects_are_visible_to_their_own_side(world):
    """Guards the test itself: the own side sees its case (so a 404 for others means isolation)."""
    a1 = world.sides["a1"]
    for key in ("agency_manager", "field_collector"):
        client = _client(world.users[key])
        page = client.get(f"/cases/{a1.case.pk}/")
        assert page.status_code == 200 and str(a1.case.loan_id) in page.content.decode(), key
        assert client.get(f"/api/v1/cases/{a1.case.pk}").status_code == 200
    assert isinstance(world.sides["b"].objects["attestation"], privacy.DeletionAttestation)


def test_world_markers_are_what_pages_show(world):
    """Guards the markers: a1's collector sees its own customer masked (its visit is in three days), a2's
    collector, whose confirmed visit window is open now, sees a2's customer in clear; the geojson of a plan
    carries its customer's coordinates."""
    a1, a2 = world.sides["a1"], world.sides["a2"]
    own = _client(a1.collector_user).get(f"/cases/{a1.case.pk}/").content.decode()
    assert a1.masked[1] in own and not any(m in own for m in a1.clear_pii)
    peer = _client(a2.collector_user).get(f"/cases/{a2.case.pk}/").content.decode()
    assert a2.markers[3] in peer
    plan = _client(world.users[Role.COLLECTIONS_MANAGER]).get(f"/visits/plan/{a1.objects['route_plan'].pk}.geojson")
    assert a1.markers[6] in plan.content.decode() and a1.markers[7] in plan.content.decode()
    assert all(s.tokens.keys() == {"appointment", "feedback", "agreement"} for s in world.sides.values())
