"""Every dashboard in a real browser (Debian chromium), in Chinese and in English: each chart is drawn
by plotly.js and the console stays free of errors."""

from __future__ import annotations

import pytest

from fieldcollect.reports.dashboards import DASHBOARDS
from fieldcollect.reports.tests.conftest import AS_OF
from fieldcollect.testing.browser import BROWSER_TEST, open_page, sign_in

pytestmark = BROWSER_TEST
TITLES = {"zh-hans": {"recovery": "回收与成本", "visits": "今日外访", "models": "模型：准确度与漂移"},
          "en": {"recovery": "Recovery and cost", "visits": "Today's field visits", "models": "Models: accuracy and drift"}}


def open_as(browser, live_server, client, user, language):
    page, context, errors = open_page(browser, timeout_ms=20_000, viewport={"width": 1280, "height": 900})
    sign_in(context, client=client, user=user, url=live_server.url, language=language)
    return page, errors


ALL_DRAWN = """() => {
  const charts = [...document.querySelectorAll('#charts .chart')];
  return charts.length > 0 && charts.every(c => c.dataset.rendered === '1' && c.querySelector('svg.main-svg'));
}"""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_dashboard_draws_its_charts(live_server, client, rw, published, browser, language):
    page, errors = open_as(browser, live_server, client, rw.manager, language)
    query = f"?as_of={AS_OF.isoformat()}&day={rw.today.isoformat()}"
    for spec in DASHBOARDS:
        page.goto(f"{live_server.url}/reports/{spec.key}/{query}")
        page.wait_for_function(ALL_DRAWN)
        expected = page.locator("script[data-chart]").count()
        assert page.locator("#charts .chart[data-rendered='1']").count() == expected >= 1, spec.key
        assert page.locator("html").get_attribute("lang") == language
        if spec.key in TITLES[language]:
            assert TITLES[language][spec.key] in page.locator("h1").inner_text()
        if spec.key == "recovery":  # traces drawn, not just empty axes
            assert page.locator("#chart-curves .scatterlayer .trace").count() >= 2
            assert page.locator("#chart-channels .barlayer .trace").count() == 3
        if spec.key == "visits":
            assert page.locator("#chart-map .scatterlayer .trace").count() == 3
        assert not errors, (spec.key, errors)
    page.context.close()


def test_agency_manager_sees_their_dashboards_only(live_server, client, rw, browser):
    page, errors = open_as(browser, live_server, client, rw.mgr_a, "zh-hans")
    page.goto(f"{live_server.url}/reports/")
    links = page.locator("#dashboards a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        "/reports/recovery/", "/reports/agencies/", "/reports/conduct/", "/reports/visits/"]
    page.goto(f"{live_server.url}/reports/agencies/?as_of={AS_OF.isoformat()}")
    page.wait_for_function(ALL_DRAWN)
    table = page.locator("#table-leaderboard tbody").inner_text()
    assert rw.a.name in table and rw.b.name not in table
    assert not errors, errors
    page.context.close()


def test_management_report_job_from_the_jobs_page(live_server, client, rw, published, browser, tmp_path):
    """In Chinese: the collections manager starts the report on the jobs page (htmx), a worker runs
    it, the page's polling shows it done with a download link, and the download is the PDF."""
    from fieldcollect.ops.jobs import DatabaseQueue, run_one
    from fieldcollect.ops.models import Job, JobStatus

    page, errors = open_as(browser, live_server, client, rw.manager, "zh-hans")
    page.goto(f"{live_server.url}/ops/jobs/")
    assert page.locator("h1").inner_text() == "后台任务"
    form = page.locator("form:has(input[name=kind][value=management_report])")
    form.locator("input[name=as_of]").fill(AS_OF.isoformat())
    form.locator("select[name=lang]").select_option("en")
    form.locator("button").click()
    page.wait_for_selector("#job-rows tr[data-status=queued]")
    job = Job.objects.get(kind="management_report")
    assert job.params == {"as_of": AS_OF.isoformat(), "lang": "en"} and job.created_by == rw.manager
    done = run_one(queue=DatabaseQueue(), worker="browser-test")
    assert done is not None and done.status == JobStatus.DONE, done.error if done else None
    link = page.locator(f'a[data-download="{job.pk}"]')
    link.wait_for()  # the rows poll every 2 s while a job is queued or running
    assert page.locator(f'#job-rows tr[data-job="{job.pk}"]').get_attribute("data-status") == "done"
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("management-2025-03") and saved.read_bytes().startswith(b"%PDF")
    assert not errors, errors
