"""A lower bound for ``bench/load.py``: the SQL of recording a contact with no framework around it.

Not part of the product. A bare WSGI application (psycopg, no Django, no validation, no compliance
engine, no encryption: the number is left empty, since a ciphertext copied from the customer's row
would not decrypt in the contact's row) that answers ``GET /healthz`` and ``POST /api/v1/cases/{id}/contacts`` by
sending PostgreSQL the same statements the product sends for a contact (token, case lock with the
agency's visibility rule, the debtor's ledger and flags, the contact with the case's update, the audit
chain head, the audit entry with the head's move) in one transaction. ``bench/load.py`` serves it with
gunicorn beside the product and drives it with the same locust users: how many contacts per second
this machine can record at all, whatever the code above the SQL, against the trivial endpoint's
ceiling.

Environment: ``FC_FLOOR_DATABASE_URL`` (the load benchmark's database).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

CONTACT_PATH = re.compile(r"^/api/v1/cases/(\d+)/contacts$")
AUTH = ("SELECT t.id, t.allowed_networks, n.networks, u.id, u.username, u.role, u.agency_id, u.is_active "
        "FROM core_apitoken t JOIN core_user u ON u.id = t.user_id "
        "LEFT JOIN agencies_agency a ON a.agency_id = u.agency_id "
        "LEFT JOIN core_agencyapinetworks n ON n.agency_id = u.agency_id "
        "WHERE t.digest = %s AND t.revoked_at IS NULL AND t.expires_at > %s")
LOCK = ("SELECT c.id, c.customer_id, c.status, c.version, c.agency_id, c.placed_until, c.collector_id, c.closed_on, "
        "cu.mobile, cu.timezone, l.jurisdiction, cu.row_binding FROM cases_case c "
        "JOIN portfolio_customer cu ON cu.customer_id = c.customer_id JOIN portfolio_loan l ON l.loan_id = c.loan_id "
        "WHERE c.id = %s AND (c.agency_id = %s AND c.placed_until >= %s AND (EXISTS (SELECT 1 FROM "
        "agencies_agencycontract k WHERE k.agency_id = c.agency_id AND k.status = %s AND k.starts_on <= %s "
        "AND k.ends_on >= %s) OR NOT EXISTS (SELECT 1 FROM agencies_agencycontract k WHERE k.agency_id = c.agency_id))) "
        "FOR UPDATE OF c, cu")
LEDGER = ("SELECT a.channel, a.party, a.at, a.number, a.connected, a.conversation, a.agency_id, a.row_binding "
          "FROM cases_contactattempt a JOIN cases_case c ON c.id = a.case_id "
          "WHERE c.customer_id = %s AND a.at >= %s AND a.at < %s")
FLAGS = ("SELECT f.customer_id, f.flag, f.phone, f.starts_at, f.ends_at, f.lifted_at, f.row_binding "
         "FROM compliance_debtorflag f "
         "WHERE f.customer_id IN (%s) AND NOT (f.lifted_at IS NOT NULL AND f.lifted_at <= f.starts_at)")
CONTACT = ("WITH u AS (UPDATE cases_case SET status = %s, close_reason = %s, closed_on = %s, version = %s, "
           "updated_at = %s, agency_id = %s, placed_until = %s, collector_id = %s WHERE id = %s RETURNING 1) "
           "INSERT INTO cases_contactattempt (case_id, agency_id, collector_id, channel, party, number, at, connected, "
           "conversation, outcome, notes, recorded_by_id, created_at, row_binding, agency_ref, breach_rules) "
           "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '', '[]'::jsonb) "
           "RETURNING id, (SELECT count(*) FROM u)")
HEAD = ("SELECT id, seq, hash FROM core_auditchainhead WHERE id BETWEEN 1 AND %s ORDER BY (id = %s) DESC, id "
        "LIMIT 1 FOR UPDATE SKIP LOCKED")
AUDIT = ("WITH h AS (UPDATE core_auditchainhead SET seq = %s, hash = %s WHERE id = %s RETURNING 1) "
         "INSERT INTO core_auditentry (chain, seq, at, actor_id, actor_label, action, object_type, object_id, old, new, "
         "prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id")

_conn: psycopg.Connection[Any] | None = None


def _json(start_response: Callable[..., Any], status: str, doc: dict[str, Any]) -> Iterable[bytes]:
    body = json.dumps(doc).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _record(cur: psycopg.Cursor[Any], case_id: int, token: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    now = datetime.now(UTC)
    today = date.today()
    cur.execute(AUTH, [hashlib.sha256(token.encode()).hexdigest(), now])
    tok = cur.fetchone()
    if tok is None:
        return None
    cur.execute(LOCK, [case_id, tok[6], today, "active", today, today])
    case = cur.fetchone()
    if case is None:
        return None
    at = datetime.fromisoformat(payload["at"])
    cur.execute(LEDGER, [case[1], at - timedelta(days=30), at + timedelta(days=30)])
    cur.fetchall()
    cur.execute(FLAGS, [case[1]])
    cur.fetchall()
    version = case[3] + 1
    cur.execute(CONTACT, ["in_progress", "", None, version, now, case[4], case[5], case[6], case_id,
                          case_id, tok[6], None, payload["channel"], payload.get("party", "debtor"), "", at,
                          False, False, payload["outcome"], payload.get("notes", ""), tok[3], now, secrets.token_hex(16)])
    inserted = cur.fetchone()
    cur.execute(HEAD, [8, 1])
    head = cur.fetchone()
    if inserted is None or head is None:  # every audit chain busy: the product waits, the floor does not
        return None
    contact_id, (chain, seq, prev) = inserted[0], head
    old = {"status": case[2], "version": case[3]}
    new = {"status": "in_progress", "version": version, "contact": contact_id, "channel": payload["channel"]}
    doc = {"chain": chain, "seq": seq + 1, "at": now.isoformat(), "actor_id": tok[3], "actor_label": tok[4],
           "action": "case.contact", "object_type": "case", "object_id": str(case_id), "old": old, "new": new,
           "prev_hash": prev}
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    cur.execute(AUDIT, [seq + 1, digest, chain, chain, seq + 1, now, tok[3], tok[4], "case.contact", "case",
                        str(case_id), json.dumps(old), json.dumps(new), prev, digest])
    return {"id": contact_id, "case_id": case_id, "channel": payload["channel"], "outcome": payload["outcome"],
            "at": at.isoformat()}


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    global _conn
    path = environ["PATH_INFO"]
    if path == "/healthz":
        return _json(start_response, "200 OK", {"status": "ok"})
    match = CONTACT_PATH.match(path)
    if match is None or environ["REQUEST_METHOD"] != "POST":
        return _json(start_response, "404 Not Found", {"error": "not found"})
    if _conn is None:
        _conn = psycopg.connect(os.environ["FC_FLOOR_DATABASE_URL"])
    payload = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
    with _conn.transaction(), _conn.cursor() as cur:
        out = _record(cur, int(match.group(1)), environ.get("HTTP_AUTHORIZATION", "")[len("Bearer "):], payload)
    if out is None:
        return _json(start_response, "404 Not Found", {"error": "not found"})
    return _json(start_response, "201 Created", out)
