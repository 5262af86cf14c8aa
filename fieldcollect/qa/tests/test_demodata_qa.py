"""The demo's quality inspection: recordings with transcripts, a week's queue, reviews and a
confirmed finding, from the demo's placed cases; a second run adds nothing."""

from __future__ import annotations

import pytest

from fieldcollect.cases import services as case_services
from fieldcollect.demodata.qa import seed_quality_inspection
from fieldcollect.qa.models import ConfirmedFinding, Recording, Review
from fieldcollect.qa.tests.test_recordings import World, w  # noqa: F401
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def test_seed_quality_inspection(w: World) -> None:  # noqa: F811
    cases = [w.case]
    for _ in range(9):
        case = f.make_case()
        case_services.case_place(case=case, agency=w.agency, acting_user=w.collections_manager)
        cases.append(case)
    for case in cases:
        case_services.case_assign(case=case, collector=w.collector, acting_user=w.dialler)
    counts = seed_quality_inspection(as_of=f.today(), per_agency=10, seed=3)
    assert counts["recordings"] == 10 == Recording.objects.count()
    assert all(hasattr(r, "transcript") for r in Recording.objects.all())
    assert counts["queue"] >= 1 and counts["reviews"] == Review.objects.count() >= 1
    assert counts["confirmed"] == ConfirmedFinding.objects.count()
    assert seed_quality_inspection(as_of=f.today(), per_agency=10, seed=3)["recordings"] == 0
