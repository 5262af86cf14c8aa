"""API schemas (Pydantic via django-ninja). Money is integer fen."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import Field


class ErrorBody(Schema):
    code: str
    message: str
    extra: dict[str, Any] = {}


class ErrorOut(Schema):
    error: ErrorBody


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
