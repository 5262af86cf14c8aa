"""Customers and loans as the operational database knows them, and the records of ingestion and
nightly runs. The whole book (every loan, instalment and payment) lives in the columnar store;
the database holds every customer and the loans that have had a collection case."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from fieldcollect.core.bank_time import bank_time_zone_name
from fieldcollect.privacy.fields import BlindIndexField, EncryptedCharField, EncryptedModel


class Customer(EncryptedModel):
    """A borrower. Name, ID number, mobile and address are stored encrypted (plaintext in Python);
    look customers up by mobile or ID number with ``portfolio.selectors.customer_find``."""

    customer_id = models.BigIntegerField(primary_key=True)
    name = EncryptedCharField(max_length=100)
    id_number = EncryptedCharField(max_length=18)
    mobile = EncryptedCharField(max_length=20)
    province = models.CharField(max_length=30)
    city = models.CharField(max_length=30, db_index=True)
    district = models.CharField(max_length=30)
    address = EncryptedCharField(max_length=200)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default=bank_time_zone_name)
    mobile_bidx = BlindIndexField(source="mobile", kind="phone")
    id_number_bidx = BlindIndexField(source="id_number", kind="id_number")

    class Meta:
        ordering: ClassVar[list[str]] = ["customer_id"]

    def __str__(self) -> str:
        return f"{self.customer_id}"


class Loan(models.Model):
    class Method(models.TextChoices):
        EQUAL_INSTALMENT = "equal_instalment", _("Equal instalment")
        EQUAL_PRINCIPAL = "equal_principal", _("Equal principal")

    loan_id = models.BigIntegerField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="loans")
    product = models.CharField(max_length=50)
    principal_fen = models.BigIntegerField()
    annual_rate = models.DecimalField(max_digits=7, decimal_places=4)
    term_months = models.PositiveSmallIntegerField()
    method = models.CharField(max_length=20, choices=Method.choices)
    disbursed_on = models.DateField()
    jurisdiction = models.CharField(max_length=8, default="CN")

    class Meta:
        ordering: ClassVar[list[str]] = ["loan_id"]

    def __str__(self) -> str:
        return f"{self.loan_id}"


class IngestBatch(models.Model):
    """One applied export. ``fingerprint`` identifies its content; the same export twice is a no-op."""

    fingerprint = models.CharField(max_length=64, unique=True)
    source = models.CharField(max_length=500)
    store_version = models.CharField(max_length=32)
    applied_at = models.DateTimeField(auto_now_add=True)
    counts = models.JSONField(default=dict)
    data_date = models.DateField(null=True, blank=True,
                                 help_text="Business date the export describes (its manifest's as_of, else its newest date)")

    class Meta:
        ordering: ClassVar[list[str]] = ["id"]

    def __str__(self) -> str:
        return f"{self.store_version} {self.fingerprint[:12]}"


class DailyRun(models.Model):
    """A published nightly cycle for one business date."""

    as_of = models.DateField(db_index=True)
    run_id = models.CharField(max_length=64, unique=True)
    engine = models.CharField(max_length=16)
    store_version = models.CharField(max_length=32)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    cases_synced = models.BooleanField(default=False)
    summary = models.JSONField(default=dict)

    class Meta:
        ordering: ClassVar[list[str]] = ["-as_of", "-id"]

    def __str__(self) -> str:
        return f"{self.as_of} {self.run_id}"
