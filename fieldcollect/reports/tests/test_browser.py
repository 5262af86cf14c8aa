"""Every dashboard in a real browser (Debian chromium), in Chinese and in English: each chart is drawn
by plotly.js and the console stays free of errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldcollect.reports.dashboards import DASHBOARDS
from fieldcollect.reports.tests.conftest import AS_OF

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium"),
]
TITLES = {"zh-hans": {"recovery": "回收与成本", "visits": "今日外访", "models": "模型：准确度与漂移"},
          "en": {"recovery": "Recovery and cost", "visits": "Today's field visits", "models": "Models: accuracy and drift"}}


@pytest.fixture
def browser(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


def open_as(browser, live_server, client, user, language):
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
                         {"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
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
