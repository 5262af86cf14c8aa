"""`fieldcollect qa scan`: the issue's input and output formats, input errors named by file, line and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from fieldcollect.cli import app

runner = CliRunner()


def seg(speaker: str, text: str, i: int) -> dict[str, object]:
    return {"speaker": speaker, "start_s": 4.0 * i, "end_s": 4.0 * i + 3.5, "text": text}


ROWS: list[dict[str, Any]] = [
    {"transcript_id": "a1", "language": "zh", "channel": "call", "segments": [
        seg("collector", "您好，我是华信公司的李明，受工商银行委托就您的信用卡联系您，本次通话录音。", 0),
        seg("customer", "滚，骗子！", 1),
        seg("collector", "你不还就让你坐牢。", 2)]},
    {"transcript_id": "a2", "language": "en", "channel": "visit", "segments": [
        seg("collector", "Hey, pay your balance.", 0), seg("customer", "Who are you?", 1)]},
    {"transcript_id": 3, "language": "zh", "channel": "call", "segments": []},
]  # fmt: skip


def write(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n",
                    encoding="utf-8")  # fmt: skip
    return path


def test_scan_writes_one_line_per_transcript(tmp_path: Path) -> None:
    src, out = write(tmp_path / "t.jsonl", list(ROWS)), tmp_path / "f.jsonl"
    result = runner.invoke(app, ["qa", "scan", "--pack", "CN", "--transcripts", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["transcript_id"] for x in lines] == ["a1", "a2", "3"]
    assert lines[0]["findings"] == [
        {
            "category": "false_consequence",
            "segment_index": 2,
            "rule_id": "CN-QA-FALSE-JAIL-01",
            "evidence": "坐牢",
        }
    ]
    assert {(f["category"], f["segment_index"]) for f in lines[1]["findings"]} == {
        ("missing_identification", None), ("missing_recording_notice", None)}  # fmt: skip
    assert lines[2]["findings"] == []
    us_out = tmp_path / "us.jsonl"
    result = runner.invoke(
        app, ["qa", "scan", "--pack", "us", "--transcripts", str(src), "--out", str(us_out)]
    )
    assert result.exit_code == 0, result.output
    us_lines = [json.loads(x) for x in us_out.read_text(encoding="utf-8").splitlines()]
    assert ("missing_debt_collector_disclosure", None) in {
        (f["category"], f["segment_index"]) for f in us_lines[1]["findings"]}  # fmt: skip
    assert all(f["rule_id"].startswith("US-") for f in us_lines[1]["findings"])


def test_a_bad_line_names_file_line_and_field(tmp_path: Path) -> None:
    bad: dict[str, object] = {
        **ROWS[0],
        "segments": [{"speaker": "robot", "start_s": 0, "end_s": 1, "text": "x"}],
    }
    src, out = write(tmp_path / "t.jsonl", [ROWS[1], bad]), tmp_path / "f.jsonl"
    result = runner.invoke(app, ["qa", "scan", "--pack", "CN", "--transcripts", str(src), "--out", str(out)])
    assert result.exit_code == 2
    assert f"{src}:2: field 'segments[0].speaker'" in result.output and "'robot'" in result.output
    assert not out.exists()
    write(src, [ROWS[1], "{not json"])
    result = runner.invoke(app, ["qa", "scan", "--pack", "CN", "--transcripts", str(src), "--out", str(out)])
    assert result.exit_code == 2 and f"{src}:2: not valid JSON" in result.output


def test_unknown_pack_and_missing_file(tmp_path: Path) -> None:
    src = write(tmp_path / "t.jsonl", [ROWS[0]])
    result = runner.invoke(
        app, ["qa", "scan", "--pack", "IN", "--transcripts", str(src), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2 and "'IN' is not CN, US" in result.output
    result = runner.invoke(app, ["qa", "scan", "--pack", "CN", "--transcripts", str(tmp_path / "nope.jsonl"),
                                 "--out", str(tmp_path / "o")])  # fmt: skip
    assert result.exit_code == 2 and "no such file" in result.output
