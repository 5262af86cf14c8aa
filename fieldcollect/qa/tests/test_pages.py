"""The QA pages of issue 21 items 4-5 and 7: the weekly queue (filter by agency and week, links to the
review page), the reviewers' agreement (Cohen's kappa), the appeals (the agency lodges, the bank's
checker decides, the maker never checks) and the conduct dashboard (findings per 1,000 contacts by
agency, category and week, as charts). Who sees what: bank QA every agency, an agency's manager its own."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases.models import ContactAttempt
from fieldcollect.core.bank_time import bank_today
from fieldcollect.core.models import Role
from fieldcollect.qa import reviews, selectors, services
from fieldcollect.qa.models import ConfirmedFinding, Recording, ScoringForm
from fieldcollect.qa.tests.test_recordings import World, upload, w  # noqa: F401  (the recordings world)
from fieldcollect.qa.tests.test_reviews import ITEMS
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db
ANSWERS = {"ident": True, "notice": True, "manner": False}


@pytest.fixture
def form(db: None) -> ScoringForm:
    return ScoringForm.objects.create(pack="CN", version=1, items=ITEMS)


def rec(w: World, dialler_id: str, *, other: bool = False) -> Recording:  # noqa: F811
    r = upload(w, w.other_dialler if other else w.dialler, dialler_id=dialler_id,
               case=w.other_case if other else None, body=b"ID3" + dialler_id.encode() * 50,
               collector_id=None if other else w.collector.pk)
    assert r.status_code == 201, r.content
    return Recording.objects.get(pk=r.json()["id"])


def confirm(w: World, form: ScoringForm, r: Recording, category: str = "abuse", reviewer=None) -> ConfirmedFinding:  # type: ignore[no-untyped-def]  # noqa: F811
    review = reviews.review_submit(recording=r, reviewer=reviewer or w.compliance, form=form, answers=ANSWERS,
                                   verdict="fail", confirmed=[{"category": category, "severity": "major"}])
    return ConfirmedFinding.objects.get(review=review)


def test_weekly_queue_page_filters_links_and_scope(w: World) -> None:  # noqa: F811
    mine = [rec(w, f"Q-{i}") for i in range(3)]
    theirs = rec(w, "Q-other", other=True)
    services.transcript_import(recording=mine[0], acting_user=None, payload={"language": "zh", "segments": [
        {"speaker": "collector", "start_s": 0, "end_s": 3, "text": "不还就让你坐牢。"}]})
    week = selectors.iso_week(bank_today())
    bank = logged_in(w.compliance)
    page = bank.get("/qa/queue/", {"week": week})
    assert page.status_code == 200
    html = page.content.decode()
    # a recording with an automatic finding is always in the queue, linked to its review page
    assert f'href="/qa/recordings/{mine[0].pk}/"' in html and "automatic_finding" in html
    assert f'href="/qa/recordings/{theirs.pk}/"' in html  # bank QA: every agency
    rows = selectors.weekly_queue_rows(user=w.compliance, monday=selectors.week_monday(bank_today()))
    assert rows == selectors.weekly_queue_rows(user=w.compliance, monday=selectors.week_monday(bank_today()))
    assert {r.recording.pk for r in rows} >= {mine[0].pk, theirs.pk}
    only = bank.get("/qa/queue/", {"week": week, "agency": str(w.other.pk)}).content.decode()
    assert f'/qa/recordings/{theirs.pk}/' in only and f'/qa/recordings/{mine[0].pk}/' not in only
    # another week: nothing
    empty = bank.get("/qa/queue/", {"week": selectors.iso_week(bank_today() - timedelta(weeks=3))}).content.decode()
    assert "/qa/recordings/" not in empty
    # the agency's manager: its own agency only, even when asking for the other one
    agency = logged_in(w.dialler)
    own = agency.get("/qa/queue/", {"week": week}).content.decode()
    assert f'/qa/recordings/{mine[0].pk}/' in own and f'/qa/recordings/{theirs.pk}/' not in own
    assert f'/qa/recordings/{theirs.pk}/' not in agency.get("/qa/queue/", {"agency": str(w.other.pk)}).content.decode()
    for user in (w.collector_user, w.collections_manager):
        assert logged_in(user).get("/qa/queue/").status_code == 404
    assert bank.get("/qa/queue/", {"week": "2026-W60"}).status_code == 400


def test_agreement_page_shows_kappa_per_reviewer(w: World, form: ScoringForm) -> None:  # noqa: F811
    second = f.make_user(role=Role.COMPLIANCE_OFFICER, username="second-reviewer")
    for i, (v1, v2) in enumerate([("pass", "pass"), ("fail", "fail"), ("pass", "fail")]):
        r = rec(w, f"K-{i}")
        for reviewer, verdict in ((w.compliance, v1), (second, v2)):
            reviews.review_submit(recording=r, reviewer=reviewer, form=form, answers=ANSWERS, verdict=verdict,
                                  confirmed=[])
    expected = reviews.reviewer_agreement()[second.pk]["kappa"]
    assert expected is not None and 0 < expected < 1
    page = logged_in(w.compliance).get("/qa/agreement/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "second-reviewer" in html and f"{expected:.3f}" in html
    for user in (w.dialler, w.lead, w.collections_manager, w.collector_user):
        assert logged_in(user).get("/qa/agreement/").status_code == 404


def test_appeals_page_agency_lodges_bank_maker_then_another_checker(w: World, form: ScoringForm) -> None:  # noqa: F811
    finding = confirm(w, form, rec(w, "A-1"))
    other_finding = confirm(w, form, rec(w, "A-2", other=True))
    agency = logged_in(w.dialler)
    listed = agency.get("/qa/appeals/").content.decode()
    assert f'id="finding-{finding.pk}"' in listed and f'id="finding-{other_finding.pk}"' not in listed
    # another agency's manager cannot lodge an appeal on this finding: 404, nothing written
    outsider = logged_in(w.other_dialler)  # (the login is audited)
    audits = AuditEntry.objects.count()
    assert outsider.post("/qa/appeals/", {"finding": finding.pk, "action": "file",
                                                          "reason": "x"}).status_code == 404
    assert AuditEntry.objects.count() == audits
    # no reason: refused, nothing changes
    agency.post("/qa/appeals/", {"finding": finding.pk, "action": "file", "reason": " "})
    finding.refresh_from_db()
    assert finding.appeal == ""
    assert agency.post("/qa/appeals/", {"finding": finding.pk, "action": "file",
                                        "reason": "客户先挂断，并非辱骂"}).status_code == 302
    finding.refresh_from_db()
    assert finding.appeal == "filed" and finding.appeal_filed_by == w.dialler
    # the agency cannot decide its own appeal
    agency.post("/qa/appeals/", {"finding": finding.pk, "action": "propose", "decision": "upheld"})
    finding.refresh_from_db()
    assert finding.appeal == "filed"
    maker = logged_in(w.compliance)
    assert "客户先挂断" in maker.get("/qa/appeals/", {"state": "filed"}).content.decode()
    maker.post("/qa/appeals/", {"finding": finding.pk, "action": "propose", "decision": "upheld"})
    finding.refresh_from_db()
    assert finding.appeal == "proposed" and finding.appeal_proposed_by == w.compliance
    # the maker never checks: no button for them, and a forged post changes nothing
    assert 'value="approve"' not in maker.get("/qa/appeals/").content.decode()
    maker.post("/qa/appeals/", {"finding": finding.pk, "action": "approve"})
    finding.refresh_from_db()
    assert finding.appeal == "proposed"
    checker = f.make_user(role=Role.COMPLIANCE_OFFICER)
    logged_in(checker).post("/qa/appeals/", {"finding": finding.pk, "action": "approve"})
    finding.refresh_from_db()
    assert finding.appeal == "upheld" and finding.appeal_decided_by == checker
    decided = logged_in(checker).get("/qa/appeals/", {"state": "decided"}).content.decode()
    assert f'id="finding-{finding.pk}"' in decided and f'id="finding-{other_finding.pk}"' not in decided
    for user in (w.collector_user, w.collections_manager):
        assert logged_in(user).get("/qa/appeals/").status_code == 404
        assert logged_in(user).post("/qa/appeals/", {"finding": other_finding.pk, "action": "propose",
                                                  "decision": "upheld"}).status_code == 404
    other_finding.refresh_from_db()
    assert other_finding.appeal == ""


def _contacts(w: World, n: int, *, other: bool = False) -> None:  # noqa: F811
    case, agency = (w.other_case, w.other) if other else (w.case, w.agency)
    # all inside this week, whatever the hour the test runs
    anchor = max(timezone.now(), selectors.week_bounds(selectors.week_monday(bank_today()))[0] + timedelta(hours=1))
    ContactAttempt.objects.bulk_create(
        ContactAttempt(case=case, agency=agency, channel="phone", at=anchor - timedelta(seconds=k + 1),
                       outcome="no_answer", recorded_by=w.collections_manager) for k in range(n))


def test_conduct_dashboard_rates_by_agency_category_and_week(w: World, form: ScoringForm) -> None:  # noqa: F811
    _contacts(w, 400)
    _contacts(w, 1000, other=True)
    confirm(w, form, rec(w, "D-1"), "abuse")
    confirm(w, form, rec(w, "D-2"), "threat")
    withdrawn = confirm(w, form, rec(w, "D-3"), "threat")
    confirm(w, form, rec(w, "D-4", other=True), "private_payment")
    withdrawn.appeal = ConfirmedFinding.Appeal.UPHELD  # withdrawn on appeal: not counted
    withdrawn.save(update_fields=["appeal"])
    monday = selectors.week_monday(bank_today())
    data = selectors.conduct_dashboard(user=w.compliance, last_monday=monday, weeks=4)
    assert data.by_category[w.agency.pk] == {"abuse": 2.5, "threat": 2.5}
    assert data.by_category[w.other.pk] == {"private_payment": 1.0}
    assert data.trend[w.agency.pk][-1] == 5.0 and data.trend[w.other.pk][-1] == 1.0
    assert data.trend[w.agency.pk][0] is None  # no contacts that week: a gap, not zero
    assert len(data.weeks) == 4 and data.weeks[-1] == selectors.iso_week(monday)
    page = logged_in(w.compliance).get("/qa/dashboard/", {"weeks": 4})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="chart-agencies"' in html and 'id="chart-trend"' in html
    figs = [json.loads(chunk.split(">", 1)[1].split("</script>", 1)[0])
            for chunk in html.split('<script type="application/json"')[1:]]
    assert len(figs) == 2 and {t["name"] for t in figs[0]["data"]} == {"abuse", "threat", "private_payment"}
    # an agency manager sees its own agency only
    own = selectors.conduct_dashboard(user=w.dialler, last_monday=monday, weeks=4)
    assert set(own.agencies) == {w.agency.pk}
    assert w.other.name not in logged_in(w.dialler).get("/qa/dashboard/").content.decode()
    assert logged_in(w.collector_user).get("/qa/dashboard/").status_code == 404
    assert logged_in(w.compliance).get("/qa/dashboard/", {"weeks": "Infinity"}).status_code == 400


def test_negative_feedback_and_a_spoofing_sign_bring_the_collectors_recording_to_the_queue(w: World) -> None:  # noqa: F811
    from fieldcollect.visits.models import CheckIn, FeedbackRequest

    r = rec(w, "Q-fb")
    now = timezone.now()
    monday = selectors.week_monday(bank_today())

    def reasons() -> dict[int, str]:
        return {row.recording.pk: row.reason
                for row in selectors.weekly_queue_rows(user=w.compliance, monday=monday)}

    def feedback(**answer: object) -> FeedbackRequest:
        return FeedbackRequest.objects.create(case=w.case, collector=w.collector, agency=w.agency,
                                              expires_at=now + timedelta(days=7), responded_at=now, **answer)

    def checkin(*flags: str) -> CheckIn:
        return CheckIn.objects.create(collector=w.collector, case=w.case, lat=31.2, lon=121.4, at=now,
                                      flags=list(flags))

    # hard negatives: a happy customer, an unanswered request, a check-in with poor accuracy only
    feedback(rating=5, polite=True, felt_threatened=False)
    FeedbackRequest.objects.create(case=w.case, collector=w.collector, expires_at=now + timedelta(days=7))
    checkin(CheckIn.Flag.POOR_ACCURACY, CheckIn.Flag.OUTSIDE_WINDOW)
    assert reasons().get(r.pk, "random") == "random"
    # the customer felt threatened: the recording is in the queue for that reason
    unhappy = feedback(rating=4, felt_threatened=True)
    assert reasons()[r.pk] == "negative_feedback"
    unhappy.delete()
    # another collector's bad feedback on the same case does not point at this one
    _user2, other_collector = f.make_collector_user(agency=w.agency)
    FeedbackRequest.objects.create(case=w.case, collector=other_collector, expires_at=now + timedelta(days=7),
                                   responded_at=now, rating=1)
    assert reasons().get(r.pk, "random") == "random"
    # a check-in at the case with an impossible speed
    checkin(CheckIn.Flag.IMPOSSIBLE_SPEED)
    assert reasons()[r.pk] == "spoofing_flag"
