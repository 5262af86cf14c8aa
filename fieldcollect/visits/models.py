"""Field visits: shifts and teams of two, appointments the customer confirms through a signed link,
route plans, verified check-ins, visit reports with evidence and feedback requests (the outbox of text messages is its own app,
``fieldcollect.outbox``)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fieldcollect.core.records import NewestFirst, by_user
from fieldcollect.privacy.fields import EncryptedCharField, EncryptedModel, EncryptedTextField


class Shift(models.Model):
    """A collector's working hours on one day and where the day starts (office or home)."""

    class Base(models.TextChoices):
        OFFICE = "office", _("Office")
        HOME = "home", _("Home")

    collector = models.ForeignKey("agencies.Collector", on_delete=models.PROTECT, related_name="shifts")
    date = models.DateField(db_index=True)
    start = models.TimeField()
    end = models.TimeField()
    base = models.CharField(max_length=8, choices=Base.choices, default=Base.OFFICE)
    base_lat = models.FloatField(null=True, blank=True)
    base_lon = models.FloatField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["date", "collector_id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["collector", "date"], name="one_shift_per_collector_day"),
        ]

    def __str__(self) -> str:
        return f"Shift {self.collector_id} {self.date}"


class Team(models.Model):
    """Two collectors who visit together on one day (CN: at least two collectors per visit)."""

    class PairedBy(models.TextChoices):
        AUTO = "auto", _("Paired automatically")
        MANAGER = "manager", _("Paired by the agency manager")

    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    city = models.CharField(max_length=50)
    date = models.DateField(db_index=True)
    member_a = models.ForeignKey("agencies.Collector", on_delete=models.PROTECT, related_name="+")
    member_b = models.ForeignKey("agencies.Collector", on_delete=models.PROTECT, related_name="+")
    paired_by = models.CharField(max_length=8, choices=PairedBy.choices, default=PairedBy.AUTO)
    base_lat = models.FloatField()
    base_lon = models.FloatField()
    shift_start = models.DateTimeField()
    shift_end = models.DateTimeField()
    created_by = by_user()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["date", "id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=~Q(member_a=models.F("member_b")), name="team_two_people"),
        ]

    def __str__(self) -> str:
        return f"Team {self.pk} {self.date} ({self.member_a_id}+{self.member_b_id})"

    @property
    def member_ids(self) -> tuple[int, int]:
        return (self.member_a_id, self.member_b_id)


class Appointment(NewestFirst, EncryptedModel):
    """A visit window proposed by the collector and confirmed (or not) by the customer."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        CONFIRMED = "confirmed", _("Confirmed")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    class CancelReason(models.TextChoices):
        """Why an appointment was cancelled: by staff, or because the agency's field work on the case
        ended (:func:`fieldcollect.visits.fieldwork.field_work_end`)."""

        STAFF = "staff", _("Cancelled by staff")
        RECALLED = "recalled", _("Case recalled from the agency")
        EXPIRED = "expired", _("Placement period ended")
        CONTRACT_ENDED = "contract_ended", _("Agency contract ended")
        CASE_CLOSED = "case_closed", _("Case closed")
        REASSIGNED = "reassigned", _("Case given to another collector")
        PAID = "paid", _("The customer paid the overdue amount")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="appointments")
    collector = models.ForeignKey("agencies.Collector", on_delete=models.PROTECT, related_name="appointments")
    windows = models.JSONField(default=list, help_text='Proposed windows: [["start ISO", "end ISO"], ...]')
    chosen_start = models.DateTimeField(null=True, blank=True, db_index=True)
    chosen_end = models.DateTimeField(null=True, blank=True)
    chosen_by_customer = models.BooleanField(default=False, help_text="The customer suggested the window")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED, db_index=True)
    token_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    nonce = models.CharField(max_length=32, blank=True, default="")
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    decline_reason = EncryptedCharField(max_length=200, blank=True, default="")
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=16, choices=CancelReason.choices, blank=True, default="")
    created_by = by_user()

    def __str__(self) -> str:
        return f"Appointment {self.pk} case {self.case_id} {self.status}"


class RoutePlan(NewestFirst):
    """A team's planned day (the latest non-superseded one is current)."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="route_plans")
    city = models.CharField(max_length=50)
    date = models.DateField(db_index=True)
    superseded = models.BooleanField(default=False)
    reason = models.CharField(max_length=100, blank=True, default="planned")
    depart = models.DateTimeField(null=True, blank=True)
    back = models.DateTimeField(null=True, blank=True)
    travel_seconds = models.IntegerField(default=0)
    travel_metres = models.IntegerField(default=0)
    missed = models.JSONField(default=list)
    feasible = models.BooleanField(default=True)
    runtime_seconds = models.FloatField(default=0.0)
    geojson = models.JSONField(default=dict, help_text="Map of the plan (optimisation.routes.day_plan_geojson)")
    created_by = by_user()

    def __str__(self) -> str:
        return f"RoutePlan {self.pk} team {self.team_id} {self.date}"


class RouteStop(models.Model):
    plan = models.ForeignKey(RoutePlan, on_delete=models.CASCADE, related_name="stops")
    order = models.PositiveSmallIntegerField(default=0, help_text="1.. in visiting order; 0 when skipped")
    visit_id = models.CharField(max_length=40)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    appointment = models.ForeignKey(Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    required = models.BooleanField(default=False)
    skipped = models.BooleanField(default=False)
    lat = models.FloatField()
    lon = models.FloatField()
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    service_minutes = models.PositiveSmallIntegerField(default=30)
    prize_fen = models.BigIntegerField(default=0)
    planned_arrival = models.DateTimeField(null=True, blank=True)
    planned_start = models.DateTimeField(null=True, blank=True)
    planned_departure = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["skipped", "order", "id"]

    def __str__(self) -> str:
        return f"Stop {self.order} {self.visit_id}"


class CheckIn(models.Model):
    """A collector's position at a visit, with the verification result and any anomaly flags."""

    class Flag(models.TextChoices):
        OUTSIDE_GEOFENCE = "outside_geofence", _("Outside the geofence")
        IMPOSSIBLE_SPEED = "impossible_speed", _("Impossibly fast since the last check-in")
        REPEATED_COORDINATES = "repeated_coordinates", _("Exactly repeated coordinates")
        OUTSIDE_WINDOW = "outside_window", _("Outside the appointment window")
        POOR_ACCURACY = "poor_accuracy", _("Poor position accuracy")
        MANUAL = "manual", _("Position entered by hand")

    collector = models.ForeignKey("agencies.Collector", on_delete=models.PROTECT, related_name="checkins")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    appointment = models.ForeignKey(Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="checkins")
    class System(models.TextChoices):
        WGS84 = "wgs84", "WGS-84"
        GCJ02 = "gcj02", "GCJ-02"
        BD09 = "bd09", "BD-09"

    lat = models.FloatField(help_text="WGS-84")
    lon = models.FloatField(help_text="WGS-84")
    reported_system = models.CharField(max_length=8, choices=System.choices, default=System.WGS84,
                                       help_text="The coordinate system the device reported the position in")
    reported_lat = models.FloatField(null=True, blank=True, help_text="As reported, in reported_system")
    reported_lon = models.FloatField(null=True, blank=True, help_text="As reported, in reported_system")
    accuracy_m = models.FloatField(default=0.0)
    at = models.DateTimeField(db_index=True)
    distance_m = models.FloatField(null=True, blank=True, help_text="Distance to the customer's address")
    accepted = models.BooleanField(default=False)
    flags = models.JSONField(default=list)
    permit = models.ForeignKey("visits.VisitPermit", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="checkins", help_text="The visit permit the check-in was made under")
    flags_after_permit = models.JSONField(
        default=list, blank=True,
        help_text="Debtor flags raised after the permit was issued that concern this visit: "
                  "non-empty = a visit made under a permit before the flag (daily compliance report)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-at", "-id"]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["collector", "at"])]

    def __str__(self) -> str:
        return f"CheckIn {self.pk} {self.collector_id} case {self.case_id}"

    @property
    def flag_labels(self) -> list[tuple[str, str]]:
        """(code, translated label) of each flag."""
        labels = dict(self.Flag.choices)
        return [(f, str(labels.get(f, f))) for f in self.flags]


class VisitOutcome(models.TextChoices):
    PAID = "paid", _("Paid")
    PROMISE = "promise", _("Promise to pay")
    HARDSHIP = "hardship", _("Hardship")
    REFUSED = "refused", _("Refused to pay")
    NOT_HOME = "not_home", _("Not at home")
    MOVED = "moved", _("Moved away")
    WRONG_ADDRESS = "wrong_address", _("Wrong address")
    DISPUTE = "dispute", _("Dispute")
    THIRD_PARTY_MET = "third_party_met", _("Third party met")


class Met(models.TextChoices):
    """Who the collector met at the door: what may be said and recorded depends on it (the pack's
    third-party rules, :func:`fieldcollect.compliance.selectors.third_party_may_discuss_debt`)."""

    DEBTOR = "debtor", _("The debtor")
    FAMILY = "family", _("A family member")
    THIRD_PARTY = "third_party", _("Another third party")
    NOBODY = "nobody", _("Nobody")


class VisitReport(NewestFirst, EncryptedModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="visit_reports")
    collector = models.ForeignKey("agencies.Collector", on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    appointment = models.ForeignKey(Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    checkin = models.ForeignKey(CheckIn, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recording = models.BooleanField(default=False, help_text="A recording (audio or video evidence) of the visit exists")
    met = models.CharField(max_length=12, choices=Met.choices, blank=True, default="",
                           help_text="Who was met at the door")
    identity_check = EncryptedCharField(max_length=200, blank=True, default="",
                                        help_text="How the debtor's identity was confirmed (when met = debtor)")
    flags_after_permit = models.JSONField(
        default=list, blank=True,
        help_text="Debtor flags raised after the visit permit was issued: non-empty = made under a permit "
                  "before the flag")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    outcome = models.CharField(max_length=20, choices=VisitOutcome.choices, blank=True, default="")
    notes = EncryptedTextField(blank=True, default="")
    customer_situation = EncryptedTextField(blank=True, default="")
    promise = models.ForeignKey("cases.PromiseToPay", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey("cases.ContactAttempt", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = by_user()

    def __str__(self) -> str:
        return f"VisitReport {self.pk} case {self.case_id} {self.status}"


class Evidence(EncryptedModel):
    """A file recorded during a visit, stored by content hash under ``$FIELDCOLLECT_HOME/evidence/``."""

    class Kind(models.TextChoices):
        AUDIO = "audio", _("Audio")
        VIDEO = "video", _("Video")
        PHOTO = "photo", _("Photo")

    report = models.ForeignKey(VisitReport, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=100, blank=True, default="")
    original_name = EncryptedCharField(max_length=200, blank=True, default="")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = by_user()

    class Meta:
        ordering: ClassVar[list[str]] = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.sha256[:12]}"


class FeedbackRequest(EncryptedModel):
    """Asks the customer, through a signed link, how a visit or a conversation went.

    Made when a visit report is closed (``report``) or, nightly, for a phone/SMS/WeChat conversation
    with the debtor (``contact``). The answer (a 1–5 rating, four yes/no categories and a comment)
    is attached to the collector and the agency that made the contact.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    report = models.OneToOneField(VisitReport, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="feedback")
    contact = models.OneToOneField("cases.ContactAttempt", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="feedback_request")
    channel = models.CharField(max_length=16, default="visit", help_text="visit, phone, sms, wechat, ...")
    collector = models.ForeignKey("agencies.Collector", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    agency = models.ForeignKey("agencies.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, blank=True, default="")
    nonce = models.CharField(max_length=32, blank=True, default="")
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True, db_index=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    polite = models.BooleanField(null=True, blank=True, help_text="The collector was polite")
    clear = models.BooleanField(null=True, blank=True, help_text="The explanation was clear")
    privacy_respected = models.BooleanField(null=True, blank=True, help_text="Privacy was respected")
    felt_threatened = models.BooleanField(null=True, blank=True, help_text="The customer felt threatened")
    comment = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["agency", "responded_at"])]

    def __str__(self) -> str:
        return f"Feedback {self.pk} case {self.case_id}"

    @property
    def offers_complaint(self) -> bool:
        """A rating of 1 or "felt threatened" offers the customer to file a complaint."""
        return self.responded_at is not None and (self.rating == 1 or bool(self.felt_threatened))


class VisitPermit(models.Model):
    """A signed permit for one stop of a published day plan: the case, the team, the time window, the
    compliance verdict at planning time and an expiry. The phone checks in against it offline; the
    server checks it again at sync (:mod:`fieldcollect.visits.services.permits`). The token is
    derived from the row (Django signing, the project's secret key): it is never stored."""

    stop = models.OneToOneField(RouteStop, null=True, blank=True, on_delete=models.SET_NULL, related_name="permit",
                                help_text="Null once the stop is removed (the case recalled): the permit stays on record")
    plan = models.ForeignKey(RoutePlan, on_delete=models.CASCADE, related_name="permits")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="permits")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    allowed = models.BooleanField(help_text="The compliance verdict on the visit when the plan was published")
    rule_ids = models.JSONField(default=list, blank=True, help_text="Rules that blocked it at planning time")
    pack = models.CharField(max_length=32, blank=True, default="")
    nonce = models.CharField(max_length=32)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar[list[str]] = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return f"Permit {self.pk} case {self.case_id} team {self.team_id}"


class FieldAction(models.Model):
    """An action a collector's phone sent through ``POST /api/v1/field/sync``, applied once: the
    unique (collector, client id) makes a second sending of the same action a duplicate."""

    class Kind(models.TextChoices):
        CHECKIN = "checkin", _("Check-in")
        REPORT = "report", _("Visit report")
        PROMISE = "promise", _("Promise to pay")

    collector = models.ForeignKey("agencies.Collector", on_delete=models.PROTECT, related_name="+")
    client_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField(null=True, blank=True,
                                       help_text="The check-in, visit report or promise the action made (a promise "
                                                 "waiting for its visit report to close: null)")
    at = models.DateTimeField(help_text="When it happened on the phone")
    data = models.JSONField(default=dict, blank=True,
                            help_text="What the action left to finish (a promise waiting for the report to close)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["collector", "client_id"], name="field_action_once_per_collector"),
        ]

    def __str__(self) -> str:
        return f"FieldAction {self.client_id} {self.kind}"


class FieldUpload(models.Model):
    """An evidence file a phone uploads in chunks (``/api/v1/field/uploads``); the chunks received are
    sealed at rest one by one, the whole is checked (size, SHA-256) and stored as :class:`Evidence`."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("Photo")
        AUDIO = "audio", _("Audio")

    collector = models.ForeignKey("agencies.Collector", on_delete=models.PROTECT, related_name="+")
    client_id = models.CharField(max_length=64)
    report_client_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    content_type = models.CharField(max_length=100, blank=True, default="")
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    received = models.BigIntegerField(default=0)
    evidence = models.ForeignKey(Evidence, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["collector", "client_id"], name="field_upload_once_per_collector"),
        ]

    def __str__(self) -> str:
        return f"FieldUpload {self.pk} {self.kind} {self.received}/{self.size}"
