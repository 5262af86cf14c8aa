"""An independent, deliberately naive evaluator of the pack rules, used as the oracle in tests.

It shares nothing with the engine but the parsed pack: every rule is recomputed from scratch at one
instant from the full ledger and flag lists, with local days taken by converting every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from fieldcollect.compliance.engine import ContactRequest, Flag, LedgerEntry
from fieldcollect.compliance.packs import RulePack


def _digits(phone: str | None) -> str:
    return "".join(ch for ch in (phone or "") if ch.isalnum() or ch == "+")


def violations(
    pack: RulePack, req: ContactRequest, ledger: Sequence[LedgerEntry], flags: Sequence[Flag], at: datetime | None = None
) -> set[str]:
    """Ids of the rules the request would break at ``at`` (default: its own time)."""
    t = req.at if at is None else at
    tz = ZoneInfo(req.tz)
    local = t.astimezone(tz)
    minute_of_day = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    today = local.date()
    hist = sorted((e for e in ledger if e.debtor_id == req.debtor_id and e.at <= t), key=lambda e: e.at)
    mine = [f for f in flags if f.debtor_id == req.debtor_id]

    def active(name: str) -> list[Flag]:
        return [f for f in mine if f.flag == name and f.start <= t and (f.end is None or t < f.end)]

    out: set[str] = set()
    for r in pack.rules:
        if not r.enabled or req.channel not in r.channels or req.party not in r.parties:
            continue
        bad = False
        if r.kind == "contact_hours":
            assert r.start is not None and r.end is not None
            lo = r.start.hour * 60 + r.start.minute
            hi = r.end.hour * 60 + r.end.minute
            outside = minute_of_day < lo or minute_of_day >= hi
            bad = outside and not (r.consent_override and req.party == "debtor" and active("consent_hours"))
        elif r.kind == "count_cap":
            n = 0
            for e in hist:
                back = (today - e.at.astimezone(tz).date()).days
                if not 0 <= back < r.window_days:
                    continue
                if e.channel not in r.channels or e.party not in r.parties:
                    continue
                if r.scope == "phone" and _digits(e.phone) != _digits(req.phone):
                    continue
                hit = {
                    "attempts": True,
                    "connected": e.connected,
                    "unanswered": not e.connected,
                    "conversations": e.conversation,
                }[r.count or ""]
                n += int(hit)
            bad = n >= r.cap
        elif r.kind == "pause":
            bad = bool(active(r.flag or ""))
        elif r.kind == "third_party_cease":
            bad = any(_digits(f.phone) == _digits(req.phone) for f in active("third_party_cease"))
        elif r.kind == "third_party_lost_contact":
            attempts = [e for e in hist if e.party == "debtor" and e.channel in r.attempt_channels]
            last = attempts[-r.consecutive_failed :]
            lost = len(last) == r.consecutive_failed and not any(e.connected for e in last)
            bad = not (lost or active("no_valid_number"))
        elif r.kind == "visit_team":
            bad = (req.collectors or 0) < r.min_collectors
        elif r.kind == "collector_certified":
            bad = req.collectors is not None and req.collectors < 1
        elif r.kind == "visit_recording":
            bad = not req.recording
        elif r.kind == "visit_appointment":
            bad = not req.appointment_confirmed
        elif r.kind == "outsourcing_notice":
            # whole local days after the day of sending (which does not count); 0 days: from the sending
            sent = req.notice_sent_at
            if req.agency_id is None:
                bad = False
            elif sent is None:
                bad = True
            elif r.waiting_days == 0:
                bad = t < sent
            else:
                bad = (today - sent.astimezone(tz).date()).days <= r.waiting_days
        else:  # pragma: no cover
            raise AssertionError(r.kind)
        if bad:
            out.add(r.id)
    return out
