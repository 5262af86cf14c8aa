"""The conduct component (issue 21 item 5): confirmed QA findings per 1,000 contacts on the monthly
scorecard and, as the weighted cost criterion ``conduct_findings_per_1k_contacts``, in agency
selection. More confirmed findings lower the score; automatic findings nobody confirmed and findings
withdrawn on appeal do not."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from fieldcollect.cases import services as cs
from fieldcollect.cases.models import ContactAttempt
from fieldcollect.core.models import Role
from fieldcollect.qa.models import AutoFinding, ConfirmedFinding, Recording, Review, ScoringForm, Transcript
from fieldcollect.scorecards import selectors, services
from fieldcollect.scorecards.tests.test_scorecards import _file
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: None):  # type: ignore[no-untyped-def]
    cm = f.make_user(role=Role.COLLECTIONS_MANAGER)
    reviewer = f.make_user(role=Role.COMPLIANCE_OFFICER)
    form = ScoringForm.objects.create(pack="CN", version=1, items=[])
    agencies = []
    for _ in range(3):
        agency, _manager = f.make_contracted_agency()
        services.candidate_save(agency=agency, values=_file(), acting_user=cm)  # identical files
        case = f.make_case()
        cs.case_place(case=case, agency=agency, acting_user=cm)
        now = timezone.now()
        ContactAttempt.objects.bulk_create(
            ContactAttempt(case=case, agency=agency, channel="phone", at=now - timedelta(seconds=k + 1),
                           outcome="no_answer", recorded_by=cm) for k in range(200))
        agencies.append((agency, case))
    return {"cm": cm, "reviewer": reviewer, "form": form, "agencies": agencies, "n": iter(range(10_000))}


def finding(world, k: int, *, appeal: str = "") -> ConfirmedFinding:  # type: ignore[no-untyped-def]
    agency, case = world["agencies"][k]
    now = timezone.now()
    rec = Recording.objects.create(agency=agency, case=case, source="dialler", dialler_id=f"c-{next(world['n'])}",
                                   started_at=now - timedelta(minutes=5), ended_at=now, sha256="0" * 64, size=1)
    review = Review.objects.create(recording=rec, reviewer=world["reviewer"], form=world["form"], answers={},
                                   score=0, verdict="fail")
    return ConfirmedFinding.objects.create(review=review, recording=rec, agency=agency, category="abuse",
                                           severity="major", confirmed_at=now, appeal=appeal)


def unconfirmed(world, k: int) -> AutoFinding:  # type: ignore[no-untyped-def]
    agency, case = world["agencies"][k]
    now = timezone.now()
    rec = Recording.objects.create(agency=agency, case=case, source="dialler", dialler_id=f"u-{next(world['n'])}",
                                   started_at=now - timedelta(minutes=5), ended_at=now, sha256="0" * 64, size=1)
    tr = Transcript.objects.create(recording=rec, language="zh", engine="vendor:test", segments="[]")
    return AutoFinding.objects.create(transcript=tr, category="threat", rule_id="CN-THREAT-1", severity="critical")


def scores(world) -> list[float]:  # type: ignore[no-untyped-def]
    by_agency = {r.agency.pk: r for r in selectors.ranking()}
    return [by_agency[a.pk].score for a, _c in world["agencies"]]


def conduct_value(world, k: int) -> float:  # type: ignore[no-untyped-def]
    agency = world["agencies"][k][0]
    [row] = [r for r in selectors.ranking() if r.agency.pk == agency.pk]
    [c] = [c for c in row.contributions if c["criterion"] == "conduct_findings_per_1k_contacts"]
    return float(c["value"])  # type: ignore[arg-type]


def test_more_confirmed_findings_lower_the_score(world) -> None:  # type: ignore[no-untyped-def]
    a, b, c = scores(world)
    assert a == b == c  # identical files, no findings
    finding(world, 0)
    for _ in range(3):
        finding(world, 1)
    a, b, c = scores(world)
    assert c > a > b  # none > one > three findings
    assert conduct_value(world, 0) == 5.0 and conduct_value(world, 1) == 15.0  # per 1,000 of 200 contacts
    # weighted score: the contributions still add up to the score
    for r in selectors.ranking():
        assert abs(sum(float(x["contribution"]) for x in r.contributions) - r.score) < 1e-9  # type: ignore[arg-type, misc]


def test_unconfirmed_and_overturned_findings_do_not_count(world) -> None:  # type: ignore[no-untyped-def]
    finding(world, 0)
    before = scores(world)
    unconfirmed(world, 2)  # an automatic finding nobody confirmed
    finding(world, 2, appeal=ConfirmedFinding.Appeal.UPHELD)  # withdrawn on appeal
    filed = finding(world, 1, appeal=ConfirmedFinding.Appeal.FILED)  # under appeal: still in force
    after = scores(world)
    assert after[2] == before[2] and conduct_value(world, 2) == 0.0
    assert after[1] < before[1]
    filed.appeal = ConfirmedFinding.Appeal.UPHELD
    filed.save(update_fields=["appeal"])
    assert scores(world) == before


def test_monthly_scorecard_shows_the_conduct_component(world) -> None:  # type: ignore[no-untyped-def]
    agency = world["agencies"][0][0]
    finding(world, 0)
    finding(world, 0)
    finding(world, 0, appeal=ConfirmedFinding.Appeal.UPHELD)
    unconfirmed(world, 0)
    card = selectors.monthly_scorecard(agency=agency, month=timezone.localdate())
    assert card.conduct_findings == 2 and card.contacts == 200 and card.conduct_per_1k == Decimal("10.000")
    quiet = selectors.monthly_scorecard(agency=world["agencies"][1][0], month=timezone.localdate())
    assert quiet.conduct_findings == 0 and quiet.conduct_per_1k == Decimal("0.000")
    client = logged_in(world["cm"])
    page = client.get(f"/scorecards/{agency.pk}/", {"month": timezone.localdate().strftime("%Y-%m")})
    assert page.status_code == 200 and 'id="kpi-conduct"' in page.content.decode()
    sel = client.get("/selection/")
    assert sel.status_code == 200 and 'name="conduct_findings_per_1k_contacts"' in sel.content.decode()
    # the conduct criterion is computed, not part of the selection file
    cand = client.get(f"/selection/agencies/{agency.pk}/")
    assert cand.status_code == 200 and 'name="conduct_findings_per_1k_contacts"' not in cand.content.decode()
