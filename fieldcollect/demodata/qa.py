"""Quality inspection in the demo (issue 21): call one function, :func:`seed_quality_inspection`,
after the demo's users and placements exist (it reads them, it creates no case or agency).

It writes the CN scoring form, one course, an exam and a certificate for the collectors it uses,
``per_agency`` call recordings per agency for placed cases (a short synthetic WAV, sealed like any
upload) with a transcript (clean, or with one planted finding) scanned by the CN pack, this week's
QA queue, reviews of the queue (a share scored twice by a second reviewer when there are two
compliance officers) and, from the planted findings, confirmed findings: what the commission
statement's penalty terms read (``qa.selectors.confirmed_findings``). Idempotent by the dialler ids.
"""

from __future__ import annotations

import io
import random
import struct
from datetime import date, datetime, time, timedelta
from typing import Any

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.analytics.conduct.sampling import Contact, weekly_queue
from fieldcollect.cases.models import Case
from fieldcollect.core.bank_time import bank_time_zone
from fieldcollect.core.models import Role, User
from fieldcollect.qa import reviews, services, training
from fieldcollect.qa.models import Certificate, Course, Recording, ScoringForm
from fieldcollect.visits.evidence import EvidenceIntake

FORM_ITEMS = [
    {
        "id": "ident",
        "label": "表明姓名、机构和委托方",
        "label_en": "Name, agency and creditor stated",
        "weight": 20,
    },
    {"id": "notice", "label": "告知录音", "label_en": "Recording notice given", "weight": 10},
    {"id": "manner", "label": "文明礼貌、无威胁辱骂", "label_en": "Civil, no threats or abuse", "weight": 40},
    {"id": "truth", "label": "后果表述真实", "label_en": "Consequences stated truthfully", "weight": 20},
    {
        "id": "channel",
        "label": "只引导至银行官方还款渠道",
        "label_en": "Only the bank's payment channels",
        "weight": 10,
    },
]
OPENING = "您好，我是{agency}的催收专员{name}，受银行委托就您的信用卡逾期联系您，本次通话全程录音。"
CLEAN = [
    "我们可以帮您申请分期，您看每月能还多少？",
    "逾期记录会按规定上报征信，建议您尽快处理。",
    "好的，那我们约定月底前还款。",
]
PLANTED = {"false_consequence": "你再不还就让你坐牢。", "private_payment": "你直接转到我的支付宝就行。",
           "abuse": "你就是个老赖，臭不要脸。"}  # fmt: skip


def _wav(seconds: float = 1.0, seed: int = 0) -> bytes:
    rate, n = 8000, int(8000 * seconds)
    rng = random.Random(seed)
    frames = bytes(rng.randrange(96, 160) for _ in range(n))
    return (b"RIFF" + struct.pack("<I", 36 + n) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
            + b"data" + struct.pack("<I", n) + frames)  # fmt: skip


def _store_audio(seed: int) -> Any:
    staged = EvidenceIntake().read_from(io.BytesIO(_wav(seed=seed)))
    services.store_staged(staged)
    return staged


def seed_quality_inspection(*, as_of: date, per_agency: int = 12, seed: int = 2026) -> dict[str, int]:
    rng = random.Random(seed)
    form, _ = ScoringForm.objects.get_or_create(pack="CN", version=1, defaults={"items": FORM_ITEMS})
    course, _ = Course.objects.get_or_create(code="CN-COMPLIANCE-2026", defaults={
        "title": "催收合规与文明催收", "title_en": "Compliant and civil collections", "validity_days": 365, "pass_mark": 80})  # fmt: skip
    reviewers = list(User.objects.filter(role=Role.COMPLIANCE_OFFICER, is_active=True).order_by("id")[:2])
    counts = {"recordings": 0, "findings": 0, "queue": 0, "reviews": 0, "confirmed": 0}
    contacts: list[Contact] = []
    planted: dict[int, str] = {}
    for agency in Agency.objects.order_by("agency_id"):
        cases = list(Case.objects.filter(agency=agency, collector__isnull=False).select_related("collector")
                     .order_by("id")[:per_agency])  # fmt: skip
        for i, case in enumerate(cases):
            collector: Collector = case.collector  # type: ignore[assignment]
            if not Certificate.objects.filter(collector=collector).exists():
                exam = training.exam_record(collector=collector, course=course, taken_on=as_of - timedelta(days=200),
                                            score=rng.randrange(80, 100), acting_user=None)  # fmt: skip
                training.certificate_issue(collector=collector, number=f"CN-QA-{collector.pk}",
                                           issued_on=as_of - timedelta(days=200),
                                           expires_on=as_of + timedelta(days=rng.choice([20, 165, 300])),
                                           exam=exam, acting_user=None)  # fmt: skip
            dialler_id = f"demo-{agency.pk}-{case.pk}"
            rec = Recording.objects.filter(agency=agency, dialler_id=dialler_id).first()
            if rec is None:
                staged = _store_audio(seed + case.pk)
                start = datetime.combine(
                    as_of - timedelta(days=i % 5), time(10 + i % 7, 5 * (i % 10)), bank_time_zone()
                )
                rec = Recording.objects.create(
                    agency=agency, case=case, collector=collector, source=Recording.Source.DIALLER,
                    dialler_id=dialler_id, started_at=start, ended_at=start + timedelta(minutes=3), pack="CN",
                    sha256=staged.sha256, size=staged.size, content_type=staged.mime)  # fmt: skip
                counts["recordings"] += 1
                lines = [("collector", OPENING.format(agency=agency.name, name=collector.name)),
                         ("customer", "嗯，最近手头紧。")]  # fmt: skip
                category = rng.choice(sorted(PLANTED)) if rng.random() < 0.2 else None
                lines += [
                    ("collector", PLANTED[category] if category else rng.choice(CLEAN)),
                    ("customer", "知道了。"),
                ]
                segs = [
                    {"speaker": s, "start_s": 10.0 * k, "end_s": 10.0 * k + 8, "text": t}
                    for k, (s, t) in enumerate(lines)
                ]
                tr = services.transcript_import(
                    recording=rec, acting_user=None, payload={"language": "zh", "segments": segs}
                )
                counts["findings"] += tr.findings.count()
                if category:
                    planted[rec.pk] = category
            triggers = ("automatic_finding",) if rec.pk in planted else ()
            contacts.append(Contact(str(rec.pk), str(collector.pk), triggers))
    week = f"{as_of.isocalendar().year}-W{as_of.isocalendar().week:02d}"
    queue = weekly_queue(contacts, week=week, seed=seed, share=0.2, double_share=0.3)
    counts["queue"] = len(queue)
    for item in queue:
        rec = Recording.objects.get(pk=int(item.contact_id))
        category = planted.get(rec.pk)
        for k, reviewer in enumerate(reviewers[: 2 if item.double else 1]):
            if rec.reviews.filter(reviewer=reviewer).exists():
                continue
            ok = category is None
            answers = {str(i["id"]): ok or i["id"] in ("ident", "notice") for i in FORM_ITEMS}
            confirmed = [{"category": category, "severity": "major"}] if category and k == 0 else []
            reviews.review_submit(recording=rec, reviewer=reviewer, form=form, answers=answers,
                                  verdict="pass" if ok else "fail", confirmed=confirmed)  # fmt: skip
            counts["reviews"] += 1
            counts["confirmed"] += len(confirmed)
    return counts
