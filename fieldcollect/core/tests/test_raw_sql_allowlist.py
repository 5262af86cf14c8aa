"""Hand-written SQL only where it is listed: a module that opens a cursor, executes a statement, or
uses ``.raw(``, ``.extra(`` or ``RawSQL`` must be in :data:`ALLOWED` with its reason. A new one
fails here: write it with the ORM, or add it to the list together with a test holding each of its
statements equal to its ORM twin (as ``cases/tests/test_access.py`` does for case visibility)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCANNED = ("fieldcollect", "config")
RAW_CALLS = frozenset({"execute", "executemany", "executescript", "cursor", "raw", "extra"})

# module -> why it writes SQL by hand (and where its statements are held to their twins)
ALLOWED: dict[str, str] = {
    "fieldcollect/core/rawsql.py": "the helpers the written-out hot paths share: insert/update from the models "
                                  "(core/tests/test_rawsql.py)",
    "fieldcollect/agencies/selectors.py": "the contract in force, asked on every agency request "
                                          "(agencies/tests/test_in_force.py)",
    "fieldcollect/cases/selectors.py": "the API's case list page and count, the city drop-down "
                                       "(cases/tests/test_selectors.py, cases/tests/test_written_out.py)",
    "fieldcollect/cases/services.py": "the contact's case lock with its visibility check "
                                      "(cases/tests/test_written_out.py)",
    "fieldcollect/compliance/selectors.py": "the debtor's ledger and flags, read on every contact "
                                            "(compliance/tests/test_written_out.py)",
    "fieldcollect/accounts/tokens.py": "the API token check, run on every request (accounts/tests/test_token_sql.py)",
    "fieldcollect/audit/models.py": "the audit chain heads: row locks with SKIP LOCKED, moved with the entry "
                                   "(audit/tests/test_chain_head_sql.py)",
    "fieldcollect/core/migrations/0005_audit_append_only.py": "the audit table's append-only trigger",
    "fieldcollect/daily/services.py": "the nightly case sync and payment attribution over the whole book "
                                      "(daily/tests/test_case_sync.py)",
    "fieldcollect/daily/guard.py": "PostgreSQL's advisory lock for the nightly cycle",
    "fieldcollect/payments/reconcile.py": "the nightly pairing of same-day payments with the export, two "
                                          "updates from a temporary table (payments/tests/test_reconcile.py)",
    "fieldcollect/portfolio/services.py": "bulk upsert of the bank's export (INSERT ... ON CONFLICT)",
    "fieldcollect/privacy/fields.py": "key rotation and encryption of existing rows, table by table",
    "fieldcollect/ops/backup.py": "row counts and snapshot isolation of a backup",
    "fieldcollect/ops/health.py": "the database probe of the health check",
    "fieldcollect/cases/results_import.py": "the duplicate lookup of an imported file's refs, one array joined "
    "with unnest on PostgreSQL (cases/tests/test_results_import.py holds it equal to the ORM's lookup)",
}


def raw_sql_uses(source: str) -> set[str]:
    """The raw-SQL entry points ``source`` calls or names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RAW_CALLS:
            found.add(node.func.attr)
        elif (isinstance(node, ast.Name) and node.id == "RawSQL") or (
                isinstance(node, ast.Attribute) and node.attr == "RawSQL"):
            found.add("RawSQL")
    return found


def modules_with_raw_sql() -> dict[str, set[str]]:
    out = {}
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/tests/" in rel:
                continue
            uses = raw_sql_uses(path.read_text(encoding="utf-8"))
            if uses:
                out[rel] = uses
    return out


def test_hand_written_sql_only_in_listed_modules():
    found = modules_with_raw_sql()
    unlisted = {m: sorted(u) for m, u in found.items() if m not in ALLOWED}
    assert not unlisted, (f"hand-written SQL in modules not in ALLOWED: {unlisted}. Use the ORM, or list the "
                          "module with its reason and a test holding each statement equal to its ORM twin.")
    stale = sorted(set(ALLOWED) - set(found))
    assert not stale, f"listed in ALLOWED but without hand-written SQL any more (remove them): {stale}"
    assert all(reason.strip() for reason in ALLOWED.values())


@pytest.mark.parametrize(("source", "expected"), [
    ("with connection.cursor() as c:\n    c.execute('SELECT 1')", {"cursor", "execute"}),
    ("Case.objects.raw('SELECT * FROM cases_case')", {"raw"}),
    ("qs.extra(where=['1=1'])", {"extra"}),
    ("from django.db.models.expressions import RawSQL\nqs.annotate(x=RawSQL('1', []))", {"RawSQL"}),
    ("from django.db.models import expressions\nqs.annotate(x=expressions.RawSQL('1', []))", {"RawSQL"}),
    ("c.executemany('INSERT', rows)", {"executemany"}),
    # hard negatives: the ORM, and words that only look alike
    ("Case.objects.filter(pk=1).update(dpd=0)", set()),
    ("page = case_list(cursor=cursor)\nraw = b'x'\nextra = {}", set()),
])
def test_the_scanner_sees_every_entry_point(source, expected):
    assert raw_sql_uses(source) == expected
