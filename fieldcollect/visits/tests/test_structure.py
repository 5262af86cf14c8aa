"""The visits app's shape: services split by concern behind one package API, one error vocabulary,
and no second copy of the compliance check."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

from fieldcollect.visits import services
from fieldcollect.visits.errors import VisitErrorCode

APP = Path(__file__).resolve().parents[1]
SOURCES = [p for p in APP.rglob("*.py") if "tests" not in p.parts and "migrations" not in p.parts]


def test_services_is_a_package_by_concern_behind_one_api():
    assert hasattr(services, "__path__"), "fieldcollect.visits.services is a package"
    modules = {m.name for m in pkgutil.iter_modules(services.__path__)}
    assert {"teams", "appointments", "route_plans", "checkin", "reports", "feedback"} <= modules
    for name in modules:
        path = Path(services.__path__[0]) / f"{name}.py"
        assert len(path.read_text().splitlines()) < 450, f"{path.name} is growing into two modules"
    init = ast.parse(Path(services.__file__).read_text())
    assert not [n for n in init.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))], "__init__ only re-exports"
    for name in services.__all__:
        obj = getattr(services, name)
        if callable(obj):
            home = importlib.import_module(obj.__module__)
            assert home.__name__.startswith("fieldcollect.visits.services.") and getattr(home, name) is obj


def test_error_codes_come_from_the_enum():
    inline = [f"{p.relative_to(APP)}:{n}" for p in SOURCES for n, line in enumerate(p.read_text().splitlines(), 1)
              if re.search(r"\bcode=[\"']", line)]
    assert inline == [], "use VisitErrorCode (fieldcollect/visits/errors.py)"
    assert len({c.value for c in VisitErrorCode}) == len(VisitErrorCode)
    # the one code the collector app's API contract names without a domain (issue 19: 409 report_not_synced)
    contract = {VisitErrorCode.FIELD_REPORT_NOT_SYNCED}
    assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+", c.value) for c in VisitErrorCode if c not in contract)


def test_no_second_copy_of_the_compliance_check():
    """Visits ask ``compliance.services`` (contact_decision, contact_guard, contact_refuse): they neither
    run the engine themselves nor load packs or read the contact ledger for it."""
    for p in SOURCES:
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in ("fieldcollect.compliance.engine",
                                                                     "fieldcollect.compliance.packs"):
                names = {a.name for a in node.names}
                assert not names & {"check", "check_history", "ContactRequest", "LedgerEntry", "load_pack"}, p
