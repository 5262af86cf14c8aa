"""API schemas (Pydantic via django-ninja). Money is integer fen."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, Field

from fieldcollect.compliance.services import RESTRICTIVE_FLAGS


class ErrorBody(Schema):
    code: str
    message: str
    extra: dict[str, Any] = {}


class ErrorOut(Schema):
    error: ErrorBody


# the error responses every endpoint documents
ERRORS: dict[int, type[ErrorOut]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                                     422: ErrorOut}


def fields_of(schema: type[Schema], obj: Any, **computed: Any) -> dict[str, Any]:
    """The response ``schema``'s fields read off ``obj`` (a model row) by name; ``computed`` gives the
    ones that are not attributes of it (a masked value, a renamed key)."""
    return {name: computed[name] if name in computed else getattr(obj, name) for name in schema.model_fields}


class CaseOut(Schema):
    """A case. ``bucket``, ``dpd``, ``max_dpd``, ``overdue_fen``, ``outstanding_principal_fen`` and
    ``city`` are null for an agency whose contract does not permit them."""

    id: int
    loan_id: int
    status: str
    bucket: str | None
    dpd: int | None
    max_dpd: int | None
    overdue_fen: int | None
    outstanding_principal_fen: int | None
    city: str | None
    opened_on: date
    closed_on: date | None
    agency_id: int | None
    collector_id: int | None
    placed_until: date | None
    version: int


class CasePageOut(Schema):
    items: list[CaseOut]
    count: int
    next_cursor: str | None = None


class ContactOut(Schema):
    id: int
    case_id: int
    channel: str
    party: str
    number: str
    at: datetime
    connected: bool
    conversation: bool
    outcome: str
    notes: str
    agency_id: int | None
    collector_id: int | None


class PromiseOut(Schema):
    id: int
    case_id: int
    amount_fen: int
    due_on: date
    promised_on: date
    status: str
    contact_id: int | None


class TaskOut(Schema):
    id: int
    case_id: int
    kind: str
    title: str
    due_on: date
    status: str
    assignee_id: int | None
    result: str


class TaskPageOut(Schema):
    items: list[TaskOut]
    count: int


class CaseDetailOut(CaseOut):
    customer: dict[str, Any] = Field(description="The customer fields the caller's contract permits, masked "
                                                 "(138****5678) unless the caller may see them in clear")
    loan: dict[str, Any]
    contacts: list[ContactOut]
    promises: list[PromiseOut]
    open_tasks: list[TaskOut]


class ContactIn(Schema):
    channel: str = Field(examples=["phone"])
    outcome: str = Field(examples=["promise"])
    party: str = "debtor"
    number: str = Field("", max_length=32)
    at: datetime | None = None
    connected: bool = False
    conversation: bool = False
    notes: str = Field("", max_length=4000)
    version: int | None = Field(None, description="The case version you read; a stale one gives 409")
    collectors: int | None = Field(
        None, ge=0, le=20,
        description="Field visits (channel visit): the number of collectors with a valid certification present. "
                    "Missing counts as not satisfied: the pack's team rule refuses the visit (422 compliance.blocked).")
    recording: bool | None = Field(
        None, description="Field visits: whether the visit was recorded (audio or video) throughout. "
                          "Missing counts as not recorded.")
    appointment_confirmed: bool | None = Field(
        None, description="Field visits: whether the debtor confirmed an appointment for this visit. "
                          "Missing counts as not confirmed.")
    collector_id: int | None = Field(
        None, ge=1, le=2**63 - 1,
        description="The agency's collector who made the contact (an agency dialler's call): refused with 422 "
                    "compliance.blocked (CN-COLLECTOR-CERTIFIED) when that collector's certificate or training "
                    "has lapsed on the contact's date in the debtor's local time; a collector of another agency "
                    "gives 422 assignment.collector_other_agency. A field collector's own call names them.")


class PromiseIn(Schema):
    amount_fen: int = Field(gt=0, description="Promised amount in fen (1 yuan = 100 fen)")
    due_on: date
    contact_id: int | None = None
    version: int | None = Field(None, description="The case version you read; a stale one gives 409")


class TaskCompleteIn(Schema):
    result: str = Field("", max_length=500)


class MeOut(Schema):
    username: str
    role: str
    agency_id: int | None


INT64 = 2**63 - 1  # a larger number overflows the database's integers (a 500): refused with 422


class CaseListParams(Schema):
    bucket: str = ""
    status: str = ""
    city: str = ""
    agency: int | None = Field(None, ge=-INT64, le=INT64)
    dpd_min: int | None = Field(None, ge=-INT64, le=INT64)
    dpd_max: int | None = Field(None, ge=-INT64, le=INT64)
    amount_min_fen: int | None = Field(None, ge=-INT64, le=INT64)
    amount_max_fen: int | None = Field(None, ge=-INT64, le=INT64)
    closed: bool = False
    limit: int = Field(50, ge=-INT64, le=INT64)
    offset: int = Field(0, ge=0, le=10**12)
    cursor: str | None = None


class ContactCheckIn(Schema):
    channel: str = Field(examples=["phone"], description="phone, sms, wechat, visit, letter or email")
    party: str = Field("debtor", description="debtor, or spouse, relative, employer, guarantor, third_party")
    number: str = Field("", max_length=32, description="Number to call or text (the debtor's mobile by default)")
    at: datetime | None = Field(None, description="When (ISO-8601 with offset); now by default")


class ContactCheckOut(Schema):
    allowed: bool
    rule_ids: list[str]
    explanations: list[str] = Field(description="One per blocking rule, in the language of Accept-Language")
    next_allowed_at: datetime | None = Field(description="Earliest time the same contact would be allowed "
                                                         "(debtor's local time); null: not on the current record")
    pack: str = Field(description="Rule pack that decided, CODE@version")


RESTRICTIVE = ", ".join(sorted(RESTRICTIVE_FLAGS))


class DebtorFlagOut(Schema):
    """A flag of the case's debtor; it applies to all their cases, the bank and every agency."""

    id: int
    flag: str = Field(description="complaint, dispute, cease, attorney, deceased, consent_hours, "
                                  "third_party_cease or no_valid_number")
    label: str = Field(description="The flag's name in the language of Accept-Language")
    phone: str = Field(description="The third party's number (third_party_cease); masked (138****5678) "
                                   "unless the caller may manage flags")
    starts_at: datetime
    ends_at: datetime | None = Field(description="Exclusive end; null: until lifted")
    active: bool = Field(description="In force now")
    reason: str
    source: str
    created_by_id: int | None
    created_at: datetime
    lifted_by_id: int | None
    lifted_at: datetime | None
    lift_reason: str


class FlagPageOut(Schema):
    items: list[DebtorFlagOut]
    can_manage: bool = Field(description="Whether the caller may add every flag and lift flags (bank "
                                         "compliance officers and collections managers)")


class FlagIn(Schema):
    flag: str = Field(examples=["complaint"], description=(
        f"Agency users and collectors may add the restrictive flags only ({RESTRICTIVE}); consent_hours and "
        "no_valid_number need a bank compliance officer or collections manager (else 403)"))
    reason: str = Field(min_length=1, max_length=500)
    starts_at: datetime | None = Field(None, description="ISO-8601 with offset; now by default")
    ends_at: datetime | None = Field(None, description="Exclusive end; null: until lifted")
    phone: str = Field("", max_length=32, description="The third party's number (required for third_party_cease)")


class FlagLiftIn(Schema):
    reason: str = Field(min_length=1, max_length=500)


# ---------------------------------------------------------------- the collector app (/field)


def _phone_time(value: datetime) -> datetime:
    """A time from the phone: with its offset, and a plausible year (an extreme one overflows when it is
    converted to the debtor's zone)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a time zone offset, e.g. 2026-06-01T10:05:00+08:00")
    if not 2000 <= value.year <= 2100:
        raise ValueError("must be between the years 2000 and 2100")
    return value


PhoneTime = Annotated[datetime, AfterValidator(_phone_time)]


class FieldCollectorOut(Schema):
    id: int
    name: str


class FieldPermitOut(Schema):
    token: str = Field(description="The signed visit permit: send it with the check-in")
    expires_at: datetime
    allowed: bool = Field(description="The compliance verdict on the visit when the plan was published")
    rule_ids: list[str] = Field(description="The rules that blocked the visit at planning time")


class FieldNavigateOut(Schema):
    amap: str
    baidu: str
    apple: str


class FieldStopOut(Schema):
    stop_id: int
    case_id: int
    order: int
    window_start: datetime | None
    window_end: datetime | None
    lat: float = Field(description="WGS-84")
    lon: float = Field(description="WGS-84")
    customer: str | None = Field(description="The customer's name, masked (in clear around a confirmed visit)")
    address: str | None = Field(description="The address as the agency's contract and masking allow")
    clear: list[str] = Field(description="The customer fields given in clear (audited)")
    amount_due_fen: int | None = Field(description="Overdue amount in fen; null when the contract withholds it")
    dpd: int | None
    appointment_id: int | None
    permit: FieldPermitOut | None
    repay_url: str = Field(description="The bank's official repayment page of the case (empty: none configured)")
    navigate: FieldNavigateOut


class FieldTodayOut(Schema):
    date: date
    collector: FieldCollectorOut
    plan_id: int | None
    wipe_after: datetime = Field(description="The end of the local day: the phone wipes the day's data then")
    stops: list[FieldStopOut]


class FieldActionIn(Schema):
    client_id: str = Field(min_length=1, max_length=64, description="An id the phone made (a UUID)")
    kind: Literal["checkin", "report", "promise"]
    case_id: int = Field(ge=1, le=INT64)
    at: PhoneTime = Field(description="When it happened on the phone (ISO-8601 with offset)")
    payload: dict[str, Any] = Field(default_factory=dict)


class FieldSyncIn(Schema):
    actions: list[FieldActionIn] = Field(max_length=500)


class FieldResultOut(Schema):
    client_id: str
    status: Literal["applied", "duplicate", "refused"]
    code: str | None = None
    message: str | None = None
    id: int | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class FieldSyncOut(Schema):
    results: list[FieldResultOut]


class FieldCheckinPayload(Schema):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    accuracy_m: float = Field(0.0, ge=0, le=1_000_000, allow_inf_nan=False)
    coord_system: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    permit: str | None = Field(None, max_length=4000)


class FieldReportPayload(Schema):
    checkin_client_id: str | None = Field(None, max_length=64)
    met: Literal["debtor", "family", "third_party", "nobody"]
    identity_check: str = Field("", max_length=200)
    outcome: str = Field(max_length=20)
    notes: str = Field("", max_length=4000)
    ended_at: PhoneTime | None = None
    uploads: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=50,
        description="The client ids of the report's photos and audio: the report closes once they have all "
                    "arrived (and every upload opened for it is complete)")
    new_address: str = Field("", max_length=300, description="A new address learnt at the door (outcome moved "
                             "or wrong_address): an unverified alternate contact of the debtor")
    new_phone: str = Field("", max_length=32, description="A new phone number learnt at the door: an unverified "
                           "alternate contact of the debtor")


class FieldPromisePayload(Schema):
    report_client_id: str | None = Field(None, max_length=64)
    amount_fen: int = Field(gt=0, le=INT64)
    due: date = Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))


class FieldUploadIn(Schema):
    client_id: str = Field(min_length=1, max_length=64, description="An id the phone made (a UUID)")
    report_client_id: str = Field(min_length=1, max_length=64)
    kind: Literal["photo", "audio"]
    content_type: str = Field("", max_length=100)
    size: int = Field(ge=1, le=INT64)
    sha256: str = Field(min_length=64, max_length=64, description="SHA-256 of the whole file, hexadecimal")


class FieldUploadOut(Schema):
    upload_id: int
    received: int
    complete: bool
    evidence_id: int | None


class PaymentRejectedOut(Schema):
    line: int
    reason: str


class PaymentsPostOut(Schema):
    applied: int
    duplicates: int
    rejected: list[PaymentRejectedOut]
# ---------------------------------------------------------------- letters, legal referrals, skip tracing

FEN_MAX = 10**15  # a bigint with room: a larger amount is a mistake


class LetterOut(Schema):
    """A letter sent to the debtor (a contact on channel ``letter``); the PDF (with the debtor's name
    and address) is on the bank's page only."""

    id: int
    case_id: int
    kind: str = Field(description="demand (催收函), lawyer (律师函) or validation (US Regulation F notice)")
    reference: str
    status: str = Field(description="sent, delivered or returned")
    law_firm: str
    contact_id: int
    sha256: str
    tracking_number: str
    sent_at: datetime
    delivered_at: datetime | None
    returned_at: datetime | None
    return_reason: str
    facts: dict[str, Any] = Field(description="Amounts (integer fen) and dates printed; no personal data")


class LetterIn(Schema):
    kind: Literal["demand", "lawyer", "validation"]
    law_firm: str = Field("", max_length=200, description="The partner law firm that signs a lawyer's letter")
    lawyer: str = Field("", max_length=100)
    tracking_number: str = Field("", max_length=64)
    at: PhoneTime | None = Field(None, description="ISO-8601 with offset; now by default")
    itemization: dict[str, Any] | None = Field(None, description=(
        "Validation notice: itemization_date, amount_on_itemization_fen, interest_fen, fees_fen, "
        "payments_credits_fen (integer fen); the case's figures by default"))


class LetterTrackIn(Schema):
    status: Literal["delivered", "returned"]
    reason: str = Field("", max_length=200, description="Why it came back (required for returned)")
    at: PhoneTime | None = None


class AltContactOut(Schema):
    id: int
    kind: str = Field(description="phone, address or employer")
    party: str = Field(description="debtor, or the third party (spouse, relative, employer, guarantor, third_party)")
    value: str = Field(description="Masked (a bank user reads it in clear on the case's legal page, with a purpose)")
    label: str
    source: str = Field(description="customer, visit or vendor")
    consent: str
    verification: str
    created_at: datetime


class AltContactIn(Schema):
    kind: Literal["phone", "address", "employer"]
    value: str = Field(min_length=1, max_length=300)
    party: str = Field("debtor", max_length=16)
    label: str = Field("", max_length=100)
    source: Literal["customer", "visit", "vendor"]
    consent: Literal["unknown", "given", "refused"] = "unknown"


class ReferralOut(Schema):
    id: int
    case_id: int
    kind: str = Field(description="litigation (诉讼), arbitration (仲裁) or mediation (调解)")
    status: str
    law_firm: str
    forum: str
    forum_case_number: str
    claim_fen: int
    referred_on: date
    outcome: str
    judgement_fen: int | None
    enforcement: str
    recalled_placement_id: int | None


class ReferralIn(Schema):
    kind: Literal["litigation", "arbitration", "mediation"]
    forum: str = Field(min_length=1, max_length=200, description="Court, arbitration commission or mediation institution")
    claim_fen: int = Field(gt=0, le=FEN_MAX)
    law_firm: str = Field("", max_length=200)
    forum_case_number: str = Field("", max_length=100)
# ---------------------------------------------------------------- quality inspection (issue 21)


class RecordingOut(Schema):
    """A recording as stored: the audio itself is played back by ``GET /recordings/{id}/audio``."""

    id: int
    case_id: int
    agency_id: int
    collector_id: int | None
    source: str
    channel: str
    dialler_id: str
    started_at: datetime
    ended_at: datetime
    pack: str
    size: int
    content_type: str
    created: bool = False
    purged: bool = False


class TranscriptSegmentIn(Schema):
    speaker: str
    start_s: float
    end_s: float
    text: str


class TranscriptIn(Schema):
    """The ASR vendor's transcript: ``language`` ``zh`` or ``en`` and its segments."""

    language: str
    segments: list[TranscriptSegmentIn]
    engine: str = "vendor"


class AutoFindingOut(Schema):
    category: str
    rule_id: str
    severity: str
    segment_index: int | None
    start_s: float | None
    evidence: str


class TranscriptOut(Schema):
    recording_id: int
    language: str
    engine: str
    pack: str
    segments: int
    findings: list[AutoFindingOut]
class ResultRejectionOut(Schema):
    """A refused row of a work-results file: its row number (the header is row 1), column and reason code."""

    row: int
    column: str
    reason: str


class ResultsImportOut(Schema):
    """The answer of a work-results import."""

    rows: int
    applied: int
    duplicates: int
    rejected: list[ResultRejectionOut]
    breaches: int
