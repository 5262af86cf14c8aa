"""The monthly management report: a PDF with Chinese (or English) text and its charts, checked by
reading its text (pdftotext) and looking at its pages as images (pdftoppm)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from fieldcollect.reports.management import SECTIONS, collect, management_report, normalise_lang
from fieldcollect.reports.tests.conftest import AS_OF, build_world

needs_poppler = pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("pdftotext")),
                                   reason="needs poppler-utils")


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def page_images(path: Path, out: Path, dpi: int = 40) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(path), str(out / "page")], check=True)
    return sorted(out.glob("page-*.png"))


def ink(png: Path) -> float:
    """Share of pixels that are not (nearly) white."""
    img = Image.open(png).convert("L")
    hist = img.histogram()
    return 1 - sum(hist[245:]) / sum(hist)


def colour_share(png: Path) -> float:
    """Share of clearly coloured pixels (chart traces; text is black or grey)."""
    px = np.asarray(Image.open(png).convert("RGB"), dtype=np.int16)
    return float(((px.max(axis=2) - px.min(axis=2)) > 60).mean())


def test_language_names():
    assert normalise_lang("zh-Hans") == "zh-hans" and normalise_lang("en") == "en"
    with pytest.raises(ValueError):
        normalise_lang("fr")


@needs_poppler
@pytest.mark.django_db
def test_report_pdf_in_chinese_with_charts(rw, published, tmp_path):
    steps: list[str] = []
    pdf = management_report(as_of=AS_OF, lang="zh-Hans", progress=steps.append)
    assert pdf.startswith(b"%PDF")
    assert steps[:len(SECTIONS)] == list(SECTIONS) and len(steps) > len(SECTIONS)  # charts reported too
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = pdf_text(path)
    for words in ("月度管理报告", "关键指标", "资产组合：逾期情况", "回收与成本", "催收机构排行榜", "按规则被拦截的联系",
                  rw.a.name, rw.b.name, "CN-HOURS", "2025-03"):
        assert words in text, words
    assert "Monthly management report" not in text
    pages = page_images(path, tmp_path)
    assert len(pages) >= 1 + len(SECTIONS)
    # every section page carries at least one chart: coloured pixels well beyond the text's
    coloured = [colour_share(p) for p in pages[1:]]
    assert sum(c > 0.01 for c in coloured) >= 3, coloured
    assert all(ink(p) > 0.01 for p in pages), [ink(p) for p in pages]


@needs_poppler
@pytest.mark.django_db
def test_report_pdf_in_english_is_the_same_report(rw, published, tmp_path):
    parts = collect(as_of=AS_OF, lang="en")
    assert set(parts.boards) == set(SECTIONS)
    kpis = dict(parts.kpis)
    assert kpis["Recovered this month (CNY)"] == "1,200"  # 100 + 500 + 600 yuan attributed in March
    assert kpis["Commission this month (CNY)"] == "162"
    assert kpis["Cost per yuan recovered"] == "0.1350"
    assert kpis["Promise kept rate"] == "80.0%"
    assert kpis["Contacts blocked by the compliance engine"] == "3"  # refusals in March (one broke 2 rules)
    from django.apps import apps

    if apps.is_installed("fieldcollect.complaints"):
        assert kpis["Complaints per 10,000 contacts"] == "2,500.00"  # 1 complaint, 4 contacts in March
    path = tmp_path / "report-en.pdf"
    path.write_bytes(management_report(as_of=AS_OF, lang="en"))
    text = pdf_text(path)
    assert "Monthly management report" in text and "Recovery and cost" in text and "月度管理报告" not in text


@needs_poppler
@pytest.mark.django_db(transaction=True)
def test_cli_writes_the_report(fc_home, tmp_path):
    from fieldcollect.cli import app

    build_world()
    out = tmp_path / "out" / "report.pdf"
    result = CliRunner().invoke(app, ["report", "management", "--as-of", AS_OF.isoformat(), "--out", str(out),
                                      "--lang", "zh-Hans"])
    assert result.exit_code == 0, result.output
    assert out.is_file() and "wrote" in result.stdout
    assert "月度管理报告" in pdf_text(out)
    bad = CliRunner().invoke(app, ["report", "management", "--as-of", "2025-02-30", "--out", str(out)])
    assert bad.exit_code != 0
    bad = CliRunner().invoke(app, ["report", "management", "--as-of", "2025-03-31", "--out", str(out),
                                   "--lang", "fr"])
    assert bad.exit_code != 0


@pytest.mark.django_db
def test_report_as_a_background_job_started_from_the_jobs_page_and_downloaded(rw, published, client):
    """The collections manager starts the report on the jobs page; a worker writes the PDF into the
    exports folder with its progress; only the manager who started it downloads it (audited), and
    only while the file is the one the job wrote."""
    from fieldcollect.audit.models import AuditEntry
    from fieldcollect.ops.exports import exports_dir
    from fieldcollect.ops.jobs import DatabaseQueue, run_one
    from fieldcollect.ops.models import Job, JobStatus

    client.force_login(rw.manager)
    assert client.post("/ops/jobs/start/", {"kind": "management_report", "as_of": "soon"}).status_code == 400
    assert client.post("/ops/jobs/start/", {"kind": "management_report", "as_of": AS_OF.isoformat(),
                                            "lang": "fr"}).status_code == 400
    r = client.post("/ops/jobs/start/", {"kind": "management_report", "as_of": AS_OF.isoformat(), "lang": "en"})
    assert r.status_code == 302
    job = Job.objects.get()
    assert (job.kind, job.params, job.created_by) == ("management_report", {"as_of": "2025-03-31", "lang": "en"},
                                                      rw.manager)
    done = run_one(queue=DatabaseQueue(), worker="w1")
    assert done is not None and done.status == JobStatus.DONE, done.error if done else None
    path = Path(done.result["path"])
    assert path.parent == exports_dir() and path.name.startswith("management-2025-03") and path.suffix == ".pdf"
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and done.result["bytes"] == len(data) and done.progress == 1.0
    assert not list(path.parent.glob(".*.tmp-*"))  # published whole

    rows = client.get("/ops/jobs/rows/").content.decode()
    assert f'data-download="{job.pk}"' in rows
    r = client.get(f"/ops/jobs/{job.pk}/file/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == data
    assert "attachment" in r["Content-Disposition"] and path.name in r["Content-Disposition"]
    entry = AuditEntry.objects.get(action="export.download")
    assert (entry.actor, entry.object_id, entry.new["sha256"]) == (rw.manager, str(job.pk), done.result["sha256"])

    client.force_login(rw.auditor)  # another bank user: the file is not theirs
    assert f'data-download="{job.pk}"' not in client.get("/ops/jobs/rows/").content.decode()
    assert client.get(f"/ops/jobs/{job.pk}/file/").status_code == 403
    client.force_login(rw.mgr_a)  # an agency user: not even the jobs
    assert client.get(f"/ops/jobs/{job.pk}/file/").status_code == 403

    client.force_login(rw.manager)
    path.write_bytes(data + b"%changed")  # changed after the job: refused
    assert client.get(f"/ops/jobs/{job.pk}/file/").status_code == 404
    Job.objects.filter(pk=job.pk).update(result=done.result | {"path": "/etc/passwd"})  # outside the folder
    assert client.get(f"/ops/jobs/{job.pk}/file/").status_code == 404
    assert AuditEntry.objects.filter(action="export.download").count() == 1


@pytest.mark.django_db
def test_report_job_with_a_bad_language_fails_at_once(fc_home):
    from fieldcollect.ops.jobs import DatabaseQueue, enqueue, run_one
    from fieldcollect.ops.models import JobStatus

    enqueue(kind="management_report", params={"as_of": "2025-03-31", "lang": "fr"})
    job = run_one(queue=DatabaseQueue(), worker="w1")
    assert job is not None and job.status == JobStatus.FAILED and "zh-Hans or en" in job.error
    assert job.attempts == 1  # not retried
