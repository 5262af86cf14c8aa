"""Conduct detector (issue 21, item 3): precision and recall on the labelled set, and scan throughput.

1. Quality: every transcript of ``bench/data/qa/labelled.jsonl`` (written by hand, hard negatives
   included: accurate statements about credit reporting, lawful suits and penalty interest,
   negations such as 我们不是警察, customers' swearing) is scanned with its pack; a finding is the
   pair (category, segment_index) of a transcript, compared with the labels: precision and recall
   per category and micro-averaged (target: at least 0.9 each).
2. Throughput: a month of calls for a large agency, ``--transcripts`` × ``--segments`` (default
   100,000 × 20), seeded, generated into a JSON-lines file and scanned by the same code as
   ``fieldcollect qa scan`` (file in, file out; target: at most 10 minutes on the 2-core machine).
   The generator plants known violations (one category each) in a share of the transcripts; the
   oracle is that the scan finds exactly the planted categories, transcript by transcript.
3. Held out: ``bench/data/qa/held_out.jsonl``, written after the lexicons were frozen and never
   used to tune them, reported apart (``held_out``): the first set was used while writing the
   lexicons, so its figures flatter the detector.
4. Later sets (``eval_sets``): ``bench/data/qa/eval_v2.jsonl`` (written from the issue's category
   definitions before any rule change), ``eval_v3.jsonl`` to ``eval_v9.jsonl`` (each written after
   the previous round of generalisation). Each was scanned once before the rules were widened with
   it: those first-run figures (``first_runs``, from ``bench/data/qa/first_runs.json``) are the ones
   that measure unseen language; the current figures of the same sets no longer do.

Usage::

    .venv/bin/python bench/qa_scan.py                       # full size, writes bench/results/qa.json
    .venv/bin/python bench/qa_scan.py --smoke --out /tmp/qa.json
"""

from __future__ import annotations

import json
import os
import platform
import random
import shlex
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fieldcollect.analytics.conduct import CATEGORIES, load_detector, parse_transcript  # noqa: E402
from fieldcollect.qa.cli import scan_file  # noqa: E402

LABELLED = REPO / "bench" / "data" / "qa" / "labelled.jsonl"
HELD_OUT = REPO / "bench" / "data" / "qa" / "held_out.jsonl"
EVAL_SETS = [REPO / "bench" / "data" / "qa" / f"eval_v{n}.jsonl" for n in (2, 3, 4, 5, 6, 7, 8, 9)]
FIRST_RUNS = REPO / "bench" / "data" / "qa" / "first_runs.json"
RESULTS = REPO / "bench" / "results" / "qa.json"


def evaluate(path: Path = LABELLED) -> dict[str, Any]:
    detectors = {"CN": load_detector("CN"), "US": load_detector("US")}
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    errors: list[dict[str, Any]] = []
    n = 0
    packs: Counter[str] = Counter()
    negatives = 0
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            n += 1
            packs[obj["pack"]] += 1
            negatives += not obj["labels"]
            got = {(f.category, f.segment_index) for f in detectors[obj["pack"]].scan(parse_transcript(obj))}
            want = {(lab["category"], lab["segment_index"]) for lab in obj["labels"]}
            for cat, _ in got & want:
                tp[cat] += 1
            for cat, seg in got - want:
                fp[cat] += 1
                errors.append({"transcript_id": obj["transcript_id"], "false_positive": [cat, seg]})
            for cat, seg in want - got:
                fn[cat] += 1
                errors.append({"transcript_id": obj["transcript_id"], "false_negative": [cat, seg]})
    per_category = {}
    for cat in CATEGORIES:
        t, p, f = tp[cat], fp[cat], fn[cat]
        per_category[cat] = {
            "true_positives": t,
            "false_positives": p,
            "false_negatives": f,
            "precision": round(t / (t + p), 4) if t + p else None,
            "recall": round(t / (t + f), 4) if t + f else None,
        }
    t, p, f = sum(tp.values()), sum(fp.values()), sum(fn.values())
    return {
        "labelled_set": str(path.relative_to(REPO)),
        "transcripts": n,
        "per_pack": dict(packs),
        "transcripts_without_findings": negatives,
        "unit": "(transcript, category, segment_index)",
        "per_category": per_category,
        "micro": {
            "precision": round(t / (t + p), 4) if t + p else None,
            "recall": round(t / (t + f), 4) if t + f else None,
            "true_positives": t,
            "false_positives": p,
            "false_negatives": f,
        },
        "errors": errors,
    }


# -- generated month of calls ---------------------------------------------------------------------------

_OPEN_ZH = "您好，我是华信资产管理公司的催收专员{n}，受{b}委托就您的信用卡逾期联系您，本次通话全程录音。"
_OPEN_EN = (
    "Hi, my name is {n} with Northgate Recovery, calling on behalf of {b} about your credit card account. "
    "This call is recorded. This is an attempt to collect a debt."
)
_NAMES_ZH = ["李明", "王芳", "张伟", "刘洋", "陈静", "杨帆"]
_NAMES_EN = ["Sarah", "David", "Maria", "James", "Linda", "Kevin"]
_BANKS_ZH = ["工商银行", "建设银行", "招商银行", "平安银行"]
_BANKS_EN = ["Capital Bank", "First Union Bank", "Metro Bank"]
_FILLER = {
    "zh": {
        "collector": [
            "请问您这个月的还款计划是怎样的？",
            "逾期记录会按规定上报征信，建议您尽快处理。",
            "如果长期不还款，银行可能会依法向法院起诉，还会继续产生罚息。",
            "我们可以帮您申请分期，您看每月能还多少？",
            "请通过手机银行或银行柜台还款，不要转给任何个人。",
            "我们不是警察，也不是法院，只是提醒您按时还款。",
            "好的，那我们约定月底前还三千元，可以吗？",
        ],
        "customer": [
            "最近手头比较紧。",
            "你们这帮骗子，别再打了！",
            "我月底发工资再还。",
            "能不能少还一点？",
            "滚，王八蛋！",
            "我知道了。",
        ],
    },
    "en": {
        "collector": [
            "Can we set up a payment plan that works for your budget?",
            "Late payments may be reported to the credit bureaus.",
            "The creditor may file a lawsuit if the account stays unpaid.",
            "Late fees and penalty interest will continue to accrue.",
            "Please pay only through the bank's website, never to a personal account.",
            "We are not the police, and you will not go to jail over this.",
            "So we agree on $200 by the end of the month?",
        ],
        "customer": [
            "Money is tight right now.",
            "Stop calling me, you idiots!",
            "I get paid on Friday.",
            "Can I pay less this month?",
            "This is ridiculous.",
            "Okay, I understand.",
        ],
    },
}
_PLANTED = {
    "zh": {
        "threat": "你再不还，我找几个兄弟上门收拾你。",
        "abuse": "你就是个老赖，臭不要脸。",
        "impersonation": "我是法院执行局的法官，今天通知你。",
        "false_consequence": "不还钱就让你坐牢。",
        "induce_borrowing": "没钱就找你亲戚朋友借一点先还上。",
        "private_payment": "你直接转到我的支付宝就行。",
    },
    "en": {
        "threat": "You'll regret it, we know where your kids go to school.",
        "abuse": "Listen, deadbeat, you are a worthless loser.",
        "impersonation": "I'm an attorney with the firm handling your case.",
        "false_consequence": "If you don't pay today you will be arrested.",
        "induce_borrowing": "Borrow it from your parents to pay this off.",
        "private_payment": "Just Venmo me the money today.",
    },
}


def generate(
    path: Path, transcripts: int, segments: int, seed: int, planted_share: float = 0.1
) -> dict[str, list[str]]:
    """Write the month's transcripts; the planted categories per transcript id (the oracle)."""
    rng = random.Random(seed)
    planted: dict[str, list[str]] = {}
    with path.open("w", encoding="utf-8") as fh:
        for i in range(transcripts):
            lang = "zh" if rng.random() < 0.7 else "en"
            tid = f"T{i:07d}"
            if lang == "zh":
                opening = _OPEN_ZH.format(n=rng.choice(_NAMES_ZH), b=rng.choice(_BANKS_ZH))
            else:
                opening = _OPEN_EN.format(n=rng.choice(_NAMES_EN), b=rng.choice(_BANKS_EN))
            texts = [("collector", opening)]
            for k in range(1, segments):
                speaker = "customer" if k % 2 else "collector"
                texts.append((speaker, rng.choice(_FILLER[lang][speaker])))
            if rng.random() < planted_share:
                category = rng.choice(sorted(_PLANTED[lang]))
                slot = rng.randrange(2, segments, 2) if segments > 2 else 0
                texts[slot] = ("collector", _PLANTED[lang][category])
                planted[tid] = [category]
            t = 0.0
            segs = []
            for speaker, text in texts:
                dur = round(2.0 + len(text) / 12, 1)
                segs.append(
                    {"speaker": speaker, "start_s": round(t, 1), "end_s": round(t + dur, 1), "text": text}
                )
                t += dur + 0.5
            row = {"transcript_id": tid, "language": lang, "channel": "call", "segments": segs}
            fh.write(json.dumps(row, ensure_ascii=False))
            fh.write("\n")
    return planted


def check_planted(findings_path: Path, planted: dict[str, list[str]]) -> dict[str, Any]:
    mismatches = []
    lines = 0
    with findings_path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            lines += 1
            got = sorted({f["category"] for f in row["findings"]})
            want = planted.get(row["transcript_id"], [])
            if got != want:
                mismatches.append({"transcript_id": row["transcript_id"], "found": got, "planted": want})
    return {
        "output_lines": lines,
        "planted_transcripts": len(planted),
        "mismatches": len(mismatches),
        "first_mismatches": mismatches[:5],
    }


def main(
    transcripts: Annotated[int, typer.Option(help="Transcripts in the generated month.")] = 100_000,
    segments: Annotated[int, typer.Option(help="Segments per transcript.")] = 20,
    seed: Annotated[int, typer.Option()] = 2026,
    smoke: Annotated[bool, typer.Option(help="2,000 transcripts × 20 segments.")] = False,
    out: Annotated[Path, typer.Option(help="Results JSON.")] = RESULTS,
) -> None:
    if smoke:
        transcripts = 2_000
    started = datetime.now(UTC).isoformat(timespec="seconds")
    load_start = os.getloadavg()
    quality = evaluate()
    held_out = evaluate(HELD_OUT)
    eval_sets = {path.stem: evaluate(path) for path in EVAL_SETS}
    first_runs = json.loads(FIRST_RUNS.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="qa_scan_") as tmp:
        data = Path(tmp) / "month.jsonl"
        findings = Path(tmp) / "findings.jsonl"
        t0 = time.perf_counter()
        planted = generate(data, transcripts, segments, seed)
        generated_s = time.perf_counter() - t0
        size = data.stat().st_size
        t0 = time.perf_counter()
        count, found = scan_file("CN", data, findings)
        scan_s = time.perf_counter() - t0
        oracle = check_planted(findings, planted)
    result = {
        "benchmark": "qa_scan",
        "command": "python bench/qa_scan.py" + (" " + shlex.join(sys.argv[1:]) if sys.argv[1:] else ""),
        "started_at": started,
        "machine": {
            "nproc": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "loadavg_start": [round(x, 2) for x in load_start],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        },
        "quality": quality,
        "held_out": held_out,
        "held_out_first_run": {
            "note": (
                "the held-out set's first scan, with the lexicons as committed before it was written: "
                "precision 0.76, recall 0.8636 (6 false positives: missing_identification on a "
                "self-introduction the name lexicon did not know, 调解员吴刚; 3 false negatives: 出了事, "
                "'send some guys over', 'Zelle to my number'). The rules were then widened (any "
                "self-introduction identifies, a false identity does not), so the held-out figures above "
                "are no longer unseen."
            ),
            "precision": 0.76,
            "recall": 0.8636,
        },
        "eval_sets": eval_sets,
        "first_runs": first_runs,
        "throughput": {
            "transcripts": count,
            "segments_per_transcript": segments,
            "input_bytes": size,
            "seed": seed,
            "pack": "CN (Chinese and English transcripts, 70 % Chinese)",
            "generate_seconds": round(generated_s, 2),
            "scan_seconds": round(scan_s, 2),
            "transcripts_per_second": round(count / scan_s, 1) if scan_s else None,
            "findings": found,
            "target": "100,000 × 20 in at most 600 s",
            "oracle": oracle,
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    micro = quality["micro"]
    print(
        f"labelled: {quality['transcripts']} transcripts, micro precision {micro['precision']} recall "
        f"{micro['recall']}; held out: {held_out['transcripts']} transcripts, micro precision "
        f"{held_out['micro']['precision']} recall {held_out['micro']['recall']}; "
        + "; ".join(
            f"{name}: micro precision {r['micro']['precision']} recall {r['micro']['recall']}"
            for name, r in eval_sets.items()
        )
        + f"; scan: {count} × {segments} in {scan_s:.1f} s ({count / scan_s:.0f}/s), "
        f"oracle mismatches {oracle['mismatches']} -> {out}"
    )


if __name__ == "__main__":
    typer.run(main)
