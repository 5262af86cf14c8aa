"""`fieldcollect compliance check|audit|pack`: round trips through JSON-lines files and input errors."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fieldcollect.cli import app as root_app
from fieldcollect.compliance.cli import app
from fieldcollect.compliance.engine import ContactRequest, check
from fieldcollect.compliance.packs import PACKS_DIR, load_pack

runner = CliRunner()


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


LEDGER: list[dict[str, Any]] = [
    {"debtor_id": "d1", "channel": "call", "party": "debtor", "phone": "13800000001",
     "at": "2026-06-10T09:00:00+08:00", "connected": True, "conversation": True, "agency_id": "A"},
    {"debtor_id": "d1", "channel": "call", "party": "debtor", "phone": "13800000001",
     "at": "2026-06-10T10:00:00+08:00", "connected": True, "conversation": False, "agency_id": "B"},
    {"debtor_id": "d1", "channel": "call", "party": "debtor", "phone": "13800000001",
     "at": "2026-06-10T11:00:00+08:00", "connected": True, "conversation": False, "agency_id": "bank"},
    {"debtor_id": 7, "channel": "call", "party": "debtor", "phone": "13800000007",
     "at": "2026-06-10T11:00:00+08:00", "connected": False, "conversation": False, "agency_id": "A"},
]  # fmt: skip
FLAGS: list[dict[str, Any]] = [
    {"debtor_id": "d2", "flag": "complaint", "from": "2026-06-01T00:00:00+08:00", "to": "2026-06-12T12:00:00+08:00"},
    {"debtor_id": "d3", "flag": "third_party_cease", "phone": "13900000003", "from": "2026-06-01T00:00:00Z", "to": None},
]
REQUESTS: list[dict[str, Any]] = [
    {"request_id": "r1", "debtor_id": "d1", "tz": "Asia/Shanghai", "channel": "call", "party": "debtor",
     "phone": "13800000001", "at": "2026-06-10T12:00:00+08:00"},
    {"request_id": 2, "debtor_id": "d1", "tz": "Asia/Shanghai", "channel": "sms", "party": "debtor",
     "phone": "13800000001", "at": "2026-06-10T12:00:00+08:00"},
    {"request_id": "r3", "debtor_id": "d2", "tz": "Asia/Shanghai", "channel": "call", "party": "debtor",
     "phone": "13800000002", "at": "2026-06-10T12:00:00+08:00"},
    {"request_id": "r4", "debtor_id": "d3", "tz": "Asia/Shanghai", "channel": "visit", "party": "debtor",
     "at": "2026-06-10T12:00:00+08:00", "collectors": 1, "recording": True, "appointment_confirmed": True},
    {"request_id": "r5", "debtor_id": "7", "tz": "Asia/Shanghai", "channel": "call", "party": "debtor",
     "phone": "13800000007", "at": "2026-06-10T22:00:00+08:00"},
]  # fmt: skip


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "ledger": write_jsonl(tmp_path / "ledger.jsonl", LEDGER),
        "flags": write_jsonl(tmp_path / "flags.jsonl", FLAGS),
        "requests": write_jsonl(tmp_path / "requests.jsonl", REQUESTS),
    }


def run_check(files: dict[str, Path], *extra: str, pack: str = "CN", root: bool = False) -> Any:
    args = ["check", "--pack", pack, "--ledger", str(files["ledger"]), "--requests", str(files["requests"])]
    if "flags" in files:
        args += ["--flags", str(files["flags"])]
    args += list(extra)
    if root:
        return runner.invoke(root_app, ["compliance", *args])
    return runner.invoke(app, args)


def test_check_round_trip_through_the_fieldcollect_command(files: dict[str, Path]) -> None:
    result = run_check(files, root=True)
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["request_id"] for x in lines] == ["r1", 2, "r3", "r4", "r5"]
    assert all(set(x) == {"request_id", "allowed", "rule_ids", "next_allowed_at"} for x in lines)
    by = {str(x["request_id"]): x for x in lines}
    assert by["r1"] == {
        "request_id": "r1",
        "allowed": False,
        "rule_ids": ["CN-CONNECTED-CAP"],
        "next_allowed_at": "2026-06-11T08:00:00+08:00",
    }
    assert by["2"]["allowed"] is True and by["2"]["next_allowed_at"] == "2026-06-10T12:00:00+08:00"
    assert by["r3"]["rule_ids"] == ["CN-PAUSE-COMPLAINT"]
    assert by["r3"]["next_allowed_at"] == "2026-06-12T12:00:00+08:00"
    assert by["r4"] == {"request_id": "r4", "allowed": False, "rule_ids": ["CN-VISIT-TEAM"], "next_allowed_at": None}
    assert by["r5"]["rule_ids"] == ["CN-HOURS"]  # integer and string debtor ids match
    assert by["r5"]["next_allowed_at"] == "2026-06-11T08:00:00+08:00"


def test_cli_agrees_with_the_engine(files: dict[str, Path]) -> None:
    from fieldcollect.compliance.cli import read_flags, read_ledger, read_requests

    ledger, flags, reqs = read_ledger(files["ledger"]), read_flags(files["flags"]), read_requests(files["requests"])
    result = run_check(files)
    printed = [json.loads(x) for x in result.stdout.splitlines()]
    pack = load_pack("CN")
    for (_, req), line in zip(reqs, printed, strict=True):
        assert isinstance(req, ContactRequest)
        d = check(request=req, ledger=ledger, flags=flags, pack=pack)
        assert line["allowed"] == d.allowed and line["rule_ids"] == list(d.rule_ids)


def test_explanations_in_chinese(files: dict[str, Path]) -> None:
    result = run_check(files, "--explain", "zh-Hans")
    first = json.loads(result.stdout.splitlines()[0])
    assert first["explanations"][0].startswith("同一债务人每个自然日")


def test_flags_are_optional_and_the_us_pack_works(files: dict[str, Path]) -> None:
    del files["flags"]
    result = run_check(files, pack="US")
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout.splitlines()[0])
    # 12:00 in New York is fine by the clock, but the 09:00 conversation started the 7-day period
    assert first["rule_ids"] == ["US-7AFTER-CONVERSATION"]


def test_pack_file_changes_a_number(files: dict[str, Path], tmp_path: Path) -> None:
    text = (PACKS_DIR / "cn.toml").read_text(encoding="utf-8").replace("cap = 3\n", "cap = 4\n", 1)
    assert tomllib.loads(text)["rules"][1]["cap"] == 4
    modified = tmp_path / "cn_modified.toml"
    modified.write_text(text, encoding="utf-8")
    result = run_check(files, "--pack-file", str(modified))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[0])["allowed"] is True
    # a pack file for another jurisdiction is refused
    result = run_check(files, "--pack-file", str(PACKS_DIR / "us.toml"))
    assert result.exit_code == 2 and "pack.code is 'US'" in result.stderr


BAD_CASES = [
    ("ledger", "{not json", 1, None, "not valid JSON"),
    ("ledger", [LEDGER[0] | {"at": "2026-06-10T09:00:00"}], 1, "at", "UTC offset"),
    ("ledger", [LEDGER[0], LEDGER[1] | {"channel": "fax"}], 2, "channel", "one of call|sms|visit|letter|email"),
    ("ledger", [LEDGER[0] | {"connected": "yes"}], 1, "connected", "true or false"),
    ("ledger", [LEDGER[0] | {"connected": False, "conversation": True}], 1, "conversation", "connected=true"),
    ("ledger", [{k: v for k, v in LEDGER[0].items() if k != "phone"}], 1, "phone", "required for a call"),
    ("ledger", ["", "[1, 2]"], 2, None, "JSON object"),
    ("flags", [FLAGS[0] | {"flag": "vip"}], 1, "flag", "one of complaint"),
    ("flags", [FLAGS[1] | {"phone": None}], 1, "phone", "third_party_cease"),
    ("flags", [FLAGS[0] | {"to": "2026-05-01T00:00:00+08:00"}], 1, "to", "after 'from'"),
    ("requests", [REQUESTS[0] | {"tz": "Asia/Atlantis"}], 1, "tz", "unknown IANA time zone"),
    ("requests", [REQUESTS[0] | {"at": "yesterday"}], 1, "at", "not an ISO-8601"),
    ("requests", [REQUESTS[0], REQUESTS[3] | {"recording": None}], 2, "recording", "required"),
    ("requests", [REQUESTS[3] | {"collectors": -1}], 1, "collectors", "whole number"),
    ("requests", [REQUESTS[0] | {"debtor_id": ""}], 1, "debtor_id", "non-empty"),
    ("requests", [REQUESTS[0] | {"party": "neighbour"}], 1, "party", "debtor|third_party"),
]


@pytest.mark.parametrize(("which", "rows", "line", "field", "reason"), BAD_CASES)
def test_malformed_lines_name_file_line_field_and_reason(
    files: dict[str, Path], which: str, rows: Any, line: int, field: str | None, reason: str
) -> None:
    path = files[which]
    if isinstance(rows, str):
        path.write_text(rows + "\n", encoding="utf-8")
    else:
        write_jsonl(path, rows)
    result = run_check(files)
    assert result.exit_code == 2
    assert result.stdout == ""
    message = result.stderr
    assert f"{path}:{line}" in message
    if field:
        assert f"field '{field}'" in message
    assert reason in message


def test_missing_file_and_unknown_pack(files: dict[str, Path], tmp_path: Path) -> None:
    files["ledger"] = tmp_path / "nope.jsonl"
    result = run_check(files)
    assert result.exit_code == 2 and "nope.jsonl" in result.stderr and "cannot open" in result.stderr
    result = run_check(files, pack="FR")
    assert result.exit_code == 2 and "CN|IN|US" in result.output


def test_audit_command_writes_csv(tmp_path: Path) -> None:
    rows = [
        {"debtor_id": f"d{i}", "channel": "call", "party": "debtor", "phone": f"1380000{i:04d}",
         "at": f"2026-06-10T21:5{5 + i // 2}:{(i % 2) * 30:02d}+08:00", "connected": False, "agency_id": "A"}
        for i in range(8)
    ] + [
        {"debtor_id": "d9", "channel": "call", "party": "debtor", "phone": "13800009999",
         "at": "2026-06-10T22:10:00+08:00", "connected": False, "agency_id": "B"}
    ]  # fmt: skip
    ledger = write_jsonl(tmp_path / "ledger.jsonl", rows)
    blocked = write_jsonl(
        tmp_path / "blocked.jsonl",
        [{"agency_id": "B", "debtor_id": "d9", "at": "2026-06-10T22:30:00+08:00", "rule_ids": ["CN-HOURS"]}],
    )
    out = tmp_path / "report.csv"
    args = ["audit", "--pack", "CN", "--ledger", str(ledger), "--blocked", str(blocked), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8").splitlines()
    assert text[0] == "day,agency_id,section,rule_id,count,detail"
    assert "2026-06-10,A,contacts,,8," in text
    assert "2026-06-10,A,near_miss,CN-HOURS,8," in text
    assert any(x.startswith("2026-06-10,A,suspicious,CN-HOURS,1,") for x in text)
    assert "2026-06-10,B,breach,CN-HOURS,1," in text
    assert "2026-06-10,B,blocked,CN-HOURS,1," in text


def test_pack_command_lists_rules() -> None:
    result = runner.invoke(app, ["pack", "--pack", "US"])
    assert result.exit_code == 0, result.output
    assert "US-7IN7" in result.stdout and "1006.14" in result.stdout


def test_request_ids_may_repeat_and_are_echoed(files: dict[str, Path]) -> None:
    write_jsonl(files["requests"], [REQUESTS[1], REQUESTS[1]])
    result = run_check(files)
    assert [json.loads(x)["request_id"] for x in result.stdout.splitlines()] == [2, 2]


def test_timestamps_with_z_are_accepted(files: dict[str, Path]) -> None:
    write_jsonl(files["requests"], [REQUESTS[1] | {"at": "2026-06-10T04:00:00Z"}])
    result = run_check(files)
    line = json.loads(result.stdout)
    assert line["allowed"] is True and line["next_allowed_at"] == "2026-06-10T12:00:00+08:00"
    assert datetime.fromisoformat(line["next_allowed_at"]).utcoffset() is not None
