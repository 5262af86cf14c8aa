"""The case library: a story written from a closed case (prefilled with its timeline, bucket,
amount band and channel) or from scratch, searched by words (Chinese included), filters and tags,
with the pages and who may write."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fieldcollect.audit.models import AuditEntry
from fieldcollect.caselibrary import selectors, services
from fieldcollect.caselibrary.models import AmountBand, CaseStory, amount_band
from fieldcollect.cases import services as case_services
from fieldcollect.complaints.tests.conftest import at
from fieldcollect.core.errors import ApplicationError, PermissionDeniedError
from fieldcollect.core.models import Role
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db



@pytest.fixture
def closed_case():
    agency = f.make_agency()
    f.make_contract(agency=agency)
    cm = f.make_user(role=Role.COLLECTIONS_MANAGER)
    manager = f.make_user(role=Role.AGENCY_MANAGER, agency=agency)
    user, collector = f.make_collector_user(agency=agency)
    case = f.make_case(bucket="M2", overdue_fen=1_200_000)
    case_services.case_place(case=case, agency=agency, acting_user=cm)
    f.notice_sent(case, agency=agency)  # the debtor was told long before (notice before outsourcing)
    case_services.case_assign(case=case, collector=collector, acting_user=manager)
    day = timezone.localdate() - timedelta(days=2)
    for hh, channel, outcome in ((10, "phone", "promise"), (15, "sms", "no_answer")):
        case_services.contact_record(case=case, acting_user=user, channel=channel, outcome=outcome,
                                     conversation=outcome == "promise", at=at(day, hh))
    case.refresh_from_db()
    case.closed_on, case.close_reason, case.status = timezone.localdate(), "paid", "closed"
    case.save(update_fields=["closed_on", "close_reason", "status"])
    return case, cm, manager


def test_amount_bands():
    assert [amount_band(x) for x in (0, 499_999, 500_000, 1_999_999, 2_000_000, 10_000_000)] == [
        "lt5k", "lt5k", "5k-20k", "5k-20k", "20k-100k", "gt100k"]


def test_story_from_a_closed_case_is_prefilled_with_its_timeline(closed_case):
    case, cm, _manager = closed_case
    initial = services.story_prefill(case=case)
    assert initial["result"] == "success" and initial["bucket"] == "M2"
    assert initial["amount_band"] == AmountBand.FROM_20K  # outstanding principal 30,000 yuan
    assert initial["channel"] == "mixed"
    assert "contact" in initial["timeline"] and "closed" in initial["timeline"]
    values = initial | {"title": "分期方案打动了失业客户", "what_was_tried": "先电话了解收入变化，再提出三期还款",
                        "what_worked": "客户愿意先还小额", "tags": "失业，分期, Hardship"}
    story = services.story_create(values=values, acting_user=cm, case=case)
    assert story.tags == ["失业", "分期", "hardship"] and story.case_id == case.pk and story.agency_id == case.agency_id
    assert AuditEntry.objects.filter(action="story.create", object_id=str(story.pk)).exists()


def test_open_case_and_missing_fields_are_refused(closed_case):
    case, cm, _m = closed_case
    case.closed_on = None
    case.save(update_fields=["closed_on"])
    with pytest.raises(ApplicationError):
        services.story_create(values={"title": "x", "result": "success", "what_was_tried": "y"}, acting_user=cm,
                              case=case)
    with pytest.raises(ApplicationError):
        services.story_create(values={"title": "x", "result": "maybe", "what_was_tried": "y"}, acting_user=cm)
    collector_user = f.make_user(role=Role.FIELD_COLLECTOR)
    with pytest.raises(PermissionDeniedError):
        services.story_create(values={"title": "x", "result": "success", "what_was_tried": "y"},
                              acting_user=collector_user)


def test_search_words_filters_and_tags(closed_case):
    _case, cm, manager = closed_case
    a = services.story_create(values={"title": "上门面谈后客户结清", "result": "success", "bucket": "M3",
                                      "channel": "visit", "amount_band": "5k-20k", "tags": "上门, 面谈",
                                      "what_was_tried": "两名催收员预约上门，全程录音"}, acting_user=cm)
    b = services.story_create(values={"title": "Repeated calls made things worse", "result": "failure",
                                      "bucket": "M2", "channel": "phone", "tags": "calls",
                                      "what_was_tried": "Daily calls to the debtor",
                                      "what_worked": "Nothing: the customer filed a complaint"}, acting_user=manager)

    def ids(**kw):
        return {s.pk for s in selectors.story_search(user=cm, filters=selectors.StoryFilters(**kw))}

    assert ids(q="录音") == {a.pk}
    assert ids(q="上门 结清") == {a.pk} and ids(q="上门 complaint") == set()  # every word must match
    assert ids(q="COMPLAINT") == {b.pk}
    assert ids(result="failure") == {b.pk} and ids(bucket="M3") == {a.pk} and ids(channel="phone") == {b.pk}
    assert ids(amount_band="5k-20k") == {a.pk} and ids(tag="面谈") == {a.pk} and ids(tag="面") == set()
    assert ("上门", 1) in selectors.tag_counts(user=cm)
    # an agency manager edits only the agency's stories
    assert services.can_edit(manager, b) and not services.can_edit(manager, a)
    with pytest.raises(PermissionDeniedError):
        services.story_update(story=a, values={"title": "x", "result": "success", "what_was_tried": "y"},
                              acting_user=manager)


def test_pages(closed_case, client):
    case, cm, _manager = closed_case
    client.force_login(cm)
    page = client.get(f"/library/new/?case={case.pk}").content.decode()
    assert "contact" in page and 'value="M2"' in page
    r = client.post("/library/new/", {"case": case.pk, "title": "电话承诺后结清", "result": "success",
                                      "bucket": "M2", "what_was_tried": "电话沟通", "tags": "电话"})
    assert r.status_code == 302
    story = CaseStory.objects.get()
    assert story.case_id == case.pk and story.timeline
    listing = client.get("/library/?q=承诺").content.decode()
    assert "电话承诺后结清" in listing
    assert "电话承诺后结清" not in client.get("/library/?result=failure").content.decode()
    assert client.get(f"/library/{story.pk}/").status_code == 200
    r = client.post(f"/library/{story.pk}/edit/", {"title": "电话承诺后结清（更新）", "result": "success",
                                                   "what_was_tried": "电话沟通", "tags": "电话, 承诺"})
    assert r.status_code == 302
    story.refresh_from_db()
    assert story.tags == ["电话", "承诺"] and story.title.endswith("（更新）")
    # English page
    client.cookies["django_language"] = "en"
    assert "Case library" in client.get("/library/").content.decode()
    client.force_login(f.make_user(role=Role.FIELD_COLLECTOR))
    assert client.get("/library/").status_code == 403
