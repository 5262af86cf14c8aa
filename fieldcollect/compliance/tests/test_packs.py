"""Loading and validating rule packs."""

from __future__ import annotations

import copy
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from fieldcollect.compliance.packs import (
    PACKS_DIR,
    PackError,
    available_packs,
    load_pack,
    load_pack_file,
    parse_pack,
)

CN_DATA = tomllib.loads((PACKS_DIR / "cn.toml").read_text(encoding="utf-8"))


def test_shipped_packs_load_with_numbers_from_the_product_brief() -> None:
    assert available_packs() == ["CN", "IN", "US"]
    cn, us, ind = load_pack("cn"), load_pack("US"), load_pack("IN")
    hours = cn.rule("CN-HOURS")
    assert (hours.start.isoformat(), hours.end.isoformat()) == ("08:00:00", "22:00:00")  # type: ignore[union-attr]
    assert hours.consent_override
    assert cn.rule("CN-CONNECTED-CAP").cap == 3 and cn.rule("CN-CONNECTED-CAP").scope == "debtor"
    assert cn.rule("CN-UNANSWERED-CAP").cap == 6 and cn.rule("CN-UNANSWERED-CAP").scope == "phone"
    assert cn.rule("CN-THIRD-PARTY-LOST-CONTACT").consecutive_failed == 3
    assert cn.rule("CN-VISIT-TEAM").min_collectors == 2
    assert us.rule("US-HOURS").end.isoformat() == "21:00:00"  # type: ignore[union-attr]
    assert (us.rule("US-7IN7").cap, us.rule("US-7IN7").window_days) == (7, 7)
    assert us.rule("US-7AFTER-CONVERSATION").window_days == 7
    assert ind.rule("IN-HOURS").end.isoformat() == "19:00:00"  # type: ignore[union-attr]
    assert ind.rule("IN-HOURS").channels == frozenset({"call"})
    assert cn.rule("CN-CONNECTED-CAP").explain("zh") == cn.rule("CN-CONNECTED-CAP").explanation["zh-Hans"]
    assert cn.is_effective(on=date(2026, 1, 1)) and not cn.is_effective(on=date(2025, 12, 31))
    assert us.rule("US-7IN7").mark == "C"


def mutate(fn: Any) -> dict[str, Any]:
    data = copy.deepcopy(CN_DATA)
    fn(data)
    return data


def rule(data: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(r for r in data["rules"] if r["id"] == rid)


BAD = [
    (lambda d: d.pop("pack"), "missing [pack]"),
    (lambda d: d["pack"].update(code="cn"), "two upper-case letters"),
    (lambda d: d["pack"].update(effective_from="2026-01-01"), "effective_from"),
    (lambda d: d["pack"].update(default_tz="Asia/Nowhere"), "unknown IANA time zone"),
    (lambda d: d["pack"]["name"].pop("zh-Hans"), "'zh-Hans'"),
    (lambda d: d.update(rules=[]), "at least one"),
    (lambda d: rule(d, "CN-HOURS").update(start="8:00"), "HH:MM"),
    (lambda d: rule(d, "CN-HOURS").update(start="23:00"), "start must be before end"),
    (lambda d: rule(d, "CN-HOURS").update(strat="08:00"), "unknown key(s) ['strat']"),
    (lambda d: rule(d, "CN-CONNECTED-CAP").update(cap=0), "cap must be an integer in [1,"),
    (lambda d: rule(d, "CN-CONNECTED-CAP").update(cap="3"), "cap must be an integer"),
    (lambda d: rule(d, "CN-CONNECTED-CAP").update(count="answered"), "count must be one of"),
    (lambda d: rule(d, "CN-CONNECTED-CAP").update(channels=["call", "pigeon"]), "unknown value(s) ['pigeon']"),
    (lambda d: rule(d, "CN-CONNECTED-CAP").update(id="CN-HOURS"), "appears twice"),
    (lambda d: rule(d, "CN-CONNECTED-CAP").update(id="US-CAP"), "id must look like CN-"),
    (lambda d: rule(d, "CN-CONNECTED-CAP").update(kind="magic"), "kind 'magic'"),
    (lambda d: rule(d, "CN-CONNECTED-CAP").update(source=" "), "source must not be empty"),
    (lambda d: rule(d, "CN-CONNECTED-CAP").update(mark="X"), "mark must be one of"),
    (lambda d: rule(d, "CN-CONNECTED-CAP")["explanation"].update(en="At most {kap}"), "bad placeholder"),
    (lambda d: rule(d, "CN-CONNECTED-CAP")["explanation"].pop("en"), "missing or empty 'en'"),
    (lambda d: rule(d, "CN-PAUSE-CEASE").update(flag="consent_hours"), "flag must be one of"),
    (lambda d: d["audit"].update(bunching_factor=0), "bunching_factor"),
    (lambda d: d["audit"].update(typo=1), "[audit] unknown key"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_invalid_packs_are_refused_with_a_clear_message(change: Any, message: str) -> None:
    with pytest.raises(PackError) as err:
        parse_pack(data=mutate(change), origin="my.toml")
    assert message in str(err.value)
    assert str(err.value).startswith("my.toml")


def test_error_names_the_rule() -> None:
    with pytest.raises(PackError, match=r"rule CN-UNANSWERED-CAP: window_days"):
        parse_pack(data=mutate(lambda d: rule(d, "CN-UNANSWERED-CAP").update(window_days=0)), origin="x")


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(PackError, match="file not found"):
        load_pack_file(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[pack\ncode=", encoding="utf-8")
    with pytest.raises(PackError, match="not valid TOML"):
        load_pack_file(bad)
    with pytest.raises(PackError, match="no rule pack for 'FR'"):
        load_pack("FR")


def test_a_changed_number_is_picked_up(tmp_path: Path) -> None:
    text = (PACKS_DIR / "cn.toml").read_text(encoding="utf-8").replace('end = "22:00"', 'end = "21:00"')
    path = tmp_path / "cn.toml"
    path.write_text(text, encoding="utf-8")
    pack = load_pack_file(path)
    assert pack.rule("CN-HOURS").end.isoformat() == "21:00:00"  # type: ignore[union-attr]
    assert "21:00" in pack.rule("CN-HOURS").explanation["zh-Hans"]
    assert pack.path == str(path)


def test_disabled_rules_are_kept_but_inactive() -> None:
    pack = parse_pack(data=mutate(lambda d: rule(d, "CN-HOURS").update(enabled=False)), origin="x")
    assert "CN-HOURS" in [r.id for r in pack.rules]
    assert "CN-HOURS" not in [r.id for r in pack.active_rules]
