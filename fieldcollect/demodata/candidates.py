"""Selection files for the demo (:func:`fieldcollect.demodata.demo.build_demo` calls
:func:`demo_candidate_files`), so the agency comparison page has something to compare. Values come from what the bank knows about each
agency (founding year, contract fees, recovery history) and, for the rest, from a seeded draw."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from fieldcollect.agencies.models import Agency
from fieldcollect.agencies.selectors import contract_terms
from fieldcollect.allocation.selectors import recovery_model
from fieldcollect.scorecards import services
from fieldcollect.scorecards.models import AgencyCandidate


def _q(x: float, places: str = "0.0001") -> Decimal:
    return Decimal(str(x)).quantize(Decimal(places))


def demo_candidate_files(*, as_of: date, seed: int = 0) -> int:
    """Create a selection file for every agency without one; return how many were created."""
    rng = random.Random(seed)
    model = recovery_model(as_of=as_of)
    made = 0
    for agency in Agency.objects.exclude(pk__in=AgencyCandidate.objects.values("agency_id")).order_by("agency_id"):
        terms = contract_terms(agency=agency, on=as_of)
        tiers = [Decimal(str(v)) for v in (terms.commission_tiers.values() if terms else []) if v not in (None, "")]
        fee = sum(tiers) / len(tiers) if tiers else Decimal("0.15")

        def rate(buckets: tuple[str, ...], agency_id: int = agency.pk) -> Decimal:
            return _q(sum(model.rate(agency_id=agency_id, bucket=b) for b in buckets) / len(buckets))

        values = {
            "years_in_business": _q(max(1, as_of.year - (agency.founded_year or as_of.year - rng.randint(2, 15))), "0.01"),
            "licensed_staff_share": _q(rng.uniform(0.6, 1.0)),
            "trained_staff_share": _q(rng.uniform(0.6, 1.0)),
            "recovery_rate_m1_m2": rate(("M1", "M2")),
            "recovery_rate_m3_m4": rate(("M3", "M4")),
            "recovery_rate_m5_plus": rate(("M5", "M6", "M6+")),
            "complaints_per_10k_contacts": _q(rng.uniform(0.5, 8.0), "0.01"),
            "inspection_score": _q(rng.uniform(60, 95), "0.01"),
            "fee_rate": _q(float(fee)),
        }
        services.candidate_save(agency=agency, values=values, acting_user=None, notes="demo")
        made += 1
    return made
