"""Reviews: the weighted form, confirmed findings and their consequences (a critical one suspends the
collector's certificate), the agency's appeal decided maker-checker, the selector issue 23 reads,
findings per 1,000 contacts, and Cohen's kappa per reviewer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from fieldcollect.core.errors import ApplicationError, PermissionDeniedError
from fieldcollect.core.models import Role
from fieldcollect.qa import reviews, selectors, training
from fieldcollect.qa.models import Certificate, ConfirmedFinding, Course, Recording, ScoringForm
from fieldcollect.qa.tests.test_recordings import World, upload, w  # noqa: F401  (the recordings world)
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db

ITEMS = [{"id": "ident", "label": "表明身份", "label_en": "Identified", "weight": 20},
         {"id": "notice", "label": "录音告知", "label_en": "Recording notice", "weight": 10},
         {"id": "manner", "label": "文明用语", "label_en": "Civil manner", "weight": 70}]  # fmt: skip


@pytest.fixture
def form(db: None) -> ScoringForm:
    return ScoringForm.objects.create(pack="CN", version=1, items=ITEMS)


def recording(w: World, dialler_id: str = "R-1") -> Recording:  # noqa: F811
    return Recording.objects.get(
        pk=upload(w, w.dialler, dialler_id=dialler_id, body=b"ID3" + dialler_id.encode() * 50).json()["id"]
    )


def test_weighted_score_and_answers_checked(form: ScoringForm) -> None:
    assert reviews.form_score(form, {"ident": True, "notice": False, "manner": True}) == 90
    with translation.override("en"), pytest.raises(ApplicationError, match="every item"):
        reviews.form_score(form, {"ident": True})


def test_critical_finding_suspends_then_appeal_maker_checker_reinstates(w: World, form: ScoringForm) -> None:  # noqa: F811
    course = Course.objects.create(code="C1", title="合规", title_en="Compliance", pass_mark=60)
    exam = training.exam_record(
        collector=w.collector, course=course, taken_on=f.today(), score=88, acting_user=None
    )
    training.certificate_issue(collector=w.collector, number="N-1", issued_on=f.today(),
                               expires_on=f.today() + timedelta(days=300), exam=exam, acting_user=None)  # fmt: skip
    rec = recording(w)
    with pytest.raises(PermissionDeniedError):
        reviews.review_submit(
            recording=rec, reviewer=w.lead, form=form, answers={}, verdict="pass", confirmed=[]
        )
    with translation.override("en"), pytest.raises(ApplicationError, match="critical"):
        reviews.review_submit(recording=rec, reviewer=w.compliance, form=form, verdict="fail",
                              answers={"ident": True, "notice": True, "manner": False},
                              confirmed=[{"category": "threat", "severity": "critical"}])  # fmt: skip
    review = reviews.review_submit(recording=rec, reviewer=w.compliance, form=form, verdict="critical",
                                   answers={"ident": True, "notice": True, "manner": False},
                                   confirmed=[{"category": "threat", "severity": "critical", "segment_index": 2}])  # fmt: skip
    assert review.score == 30
    w.collector.refresh_from_db()
    assert not w.collector.qualified_on(f.today())
    assert Certificate.objects.get(number="N-1").status == "suspended"
    finding = ConfirmedFinding.objects.get(review=review)
    now = timezone.now()
    assert list(
        selectors.confirmed_findings(
            agency_id=w.agency.pk, start=now - timedelta(days=1), end=now + timedelta(days=1)
        )
    ) == [finding]
    assert not selectors.confirmed_findings(
        agency_id=w.other.pk, start=now - timedelta(days=1), end=now + timedelta(days=1)
    ).exists()
    # the appeal: the agency files, one bank user proposes, another approves
    with pytest.raises(PermissionDeniedError):
        reviews.appeal_file(finding=finding, acting_user=w.other_dialler, reason="not ours")
    reviews.appeal_file(finding=finding, acting_user=w.dialler, reason="录音中是客户说的")
    reviews.appeal_propose(finding=finding, acting_user=w.compliance, decision="upheld")
    with translation.override("en"), pytest.raises(PermissionDeniedError, match="maker"):
        reviews.appeal_approve(finding=finding, acting_user=w.compliance)
    checker = f.make_user(role=Role.COMPLIANCE_OFFICER)
    reviews.appeal_approve(finding=finding, acting_user=checker)
    assert finding.appeal == "upheld"
    assert not selectors.confirmed_findings(
        agency_id=w.agency.pk, start=now - timedelta(days=1), end=now + timedelta(days=1)
    ).exists()
    w.collector.refresh_from_db()
    assert w.collector.qualified_on(f.today())


def test_conduct_rates_and_kappa_per_reviewer(w: World, form: ScoringForm) -> None:  # noqa: F811
    second = f.make_user(role=Role.COMPLIANCE_OFFICER)
    answers = {"ident": True, "notice": True, "manner": True}
    verdicts = [("pass", "pass"), ("fail", "fail"), ("pass", "fail"), ("pass", "pass")]
    for i, (v1, v2) in enumerate(verdicts):
        rec = recording(w, f"K-{i}")
        confirmed = [{"category": "abuse", "severity": "major"}] if v1 == "fail" else []
        reviews.review_submit(
            recording=rec, reviewer=w.compliance, form=form, answers=answers, verdict=v1, confirmed=confirmed
        )
        reviews.review_submit(
            recording=rec, reviewer=second, form=form, answers=answers, verdict=v2, confirmed=[]
        )
    with pytest.raises(ApplicationError):  # once per reviewer
        reviews.review_submit(
            recording=rec, reviewer=second, form=form, answers=answers, verdict="pass", confirmed=[]
        )
    agreement = reviews.reviewer_agreement()
    # 4 items, agree on 3: p_o = .75; A: 3 pass 1 fail, B: 2 pass 2 fail; p_e = .75*.5 + .25*.5 = .5 -> kappa .5
    assert agreement[w.compliance.pk] == {"double_scored": 4, "kappa": pytest.approx(0.5)}
    assert agreement[second.pk]["kappa"] == pytest.approx(0.5)
    now = timezone.now()
    rates = selectors.conduct_rates(start=now - timedelta(days=1), end=now + timedelta(days=1),
                                    contacts_by_agency={w.agency.pk: 400, w.other.pk: 100})  # fmt: skip
    assert rates == {w.agency.pk: {"abuse": 2.5}, w.other.pk: {}}  # one confirmed finding in 400 contacts


def test_review_page_player_transcript_and_form(w: World, form: ScoringForm) -> None:  # noqa: F811

    from fieldcollect.qa import services

    rec = recording(w)
    services.transcript_import(recording=rec, acting_user=None, payload={"language": "zh", "segments": [
        {"speaker": "collector", "start_s": 0, "end_s": 4, "text": "喂。"},
        {"speaker": "customer", "start_s": 4.5, "end_s": 6, "text": "谁？"},
        {"speaker": "collector", "start_s": 6.5, "end_s": 9, "text": "不还就让你坐牢。"}]})  # fmt: skip
    c = logged_in(w.compliance)
    page = c.get(f"/qa/recordings/{rec.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        f'src="/api/v1/recordings/{rec.pk}/audio"' in html and "<mark" in html and 'data-start="6.5"' in html
    )
    assert "missing_identification" in html and 'id="review-form"' in html
    posted = c.post(f"/qa/recordings/{rec.pk}/", {"item_ident": "on", "item_manner": "on", "confirm": ["false_consequence"],
                                                 "severity_false_consequence": "major", "verdict": "fail"})  # fmt: skip
    assert posted.status_code == 302
    [finding] = ConfirmedFinding.objects.filter(recording=rec)
    assert finding.category == "false_consequence" and finding.review.score == 90
    for user in (w.manager_not_lead, w.collector_user, w.other_dialler):
        c.force_login(user)
        assert c.get(f"/qa/recordings/{rec.pk}/").status_code == 404
    c.force_login(w.lead)  # the agency's QA lead listens, does not score
    lead_page = c.get(f"/qa/recordings/{rec.pk}/")
    assert lead_page.status_code == 200 and 'id="review-form"' not in lead_page.content.decode()
    assert c.get(f"/qa/training/{w.agency.pk}/").status_code == 200
    assert c.get(f"/qa/training/{w.other.pk}/").status_code == 404


def test_confirmed_findings_are_penalties_on_the_agency_statement(w: World, form: ScoringForm) -> None:  # noqa: F811
    """Issue 21 item 5 / issue 23 item 6: each confirmed finding in force is charged once on the agency's
    commission statement at its contract's price (a critical one at the serious price); a finding
    withdrawn on appeal before the statement is not charged; the other agency pays nothing."""
    from fieldcollect.agencies.models import AgencyContract
    from fieldcollect.settlement import services as settlement

    AgencyContract.objects.filter(agency=w.agency).update(
        penalty_terms={"qa_finding": 5_000, "qa_finding_serious": 20_000})
    answers = {"ident": True, "notice": True, "manner": False}
    reviews.review_submit(recording=recording(w, "P-1"), reviewer=w.compliance, form=form, verdict="fail",
                          answers=answers, confirmed=[{"category": "abuse", "severity": "major"}])  # fmt: skip
    reviews.review_submit(recording=recording(w, "P-2"), reviewer=w.compliance, form=form, verdict="critical",
                          answers=answers, confirmed=[{"category": "threat", "severity": "critical"}])  # fmt: skip
    withdrawn = reviews.review_submit(recording=recording(w, "P-3"), reviewer=w.compliance, form=form,
                                      verdict="fail", answers=answers,
                                      confirmed=[{"category": "private_payment", "severity": "major"}])  # fmt: skip
    finding = ConfirmedFinding.objects.get(review=withdrawn)
    reviews.appeal_file(finding=finding, acting_user=w.dialler, reason="客户要求的转账是银行账户")
    reviews.appeal_propose(finding=finding, acting_user=w.compliance, decision="upheld")
    reviews.appeal_approve(finding=finding, acting_user=f.make_user(role=Role.COMPLIANCE_OFFICER))
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    statement = settlement.statement_generate(agency=w.agency, month=f.today(), acting_user=manager)
    charged = sorted(statement.adjustments.filter(source="qa_finding").values_list("amount_fen", flat=True))
    assert charged == [5_000, 20_000] and statement.penalties_fen == 25_000
    again = settlement.statement_generate(agency=w.agency, month=f.today(), acting_user=manager)
    assert again.adjustments.filter(source="qa_finding").count() == 2  # charged once
    other = settlement.statement_generate(agency=w.other, month=f.today(), acting_user=manager)
    assert not other.adjustments.filter(source="qa_finding").exists()
