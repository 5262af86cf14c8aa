"""All API schemas live in one module, :mod:`fieldcollect.api.schemas`; the endpoint modules only use them."""

from __future__ import annotations

import ast
from pathlib import Path

from ninja import Schema

from fieldcollect.api import schemas

PACKAGE = Path(__file__).resolve().parents[2]
BASES = {"Schema", "ModelSchema", "FilterSchema"}


def schema_classes(tree: ast.Module) -> list[str]:
    """Classes deriving directly from a django-ninja schema base."""
    return [node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
            and any((b.id if isinstance(b, ast.Name) else getattr(b, "attr", None)) in BASES for b in node.bases)]


def test_no_schema_is_declared_outside_the_schemas_module():
    offenders = [f"{p.relative_to(PACKAGE.parent)}: {name}" for p in sorted(PACKAGE.rglob("*.py"))
                 if p != Path(schemas.__file__) and "tests" not in p.relative_to(PACKAGE).parts
                 for name in schema_classes(ast.parse(p.read_text(encoding="utf-8")))]
    assert offenders == []


def test_the_schemas_module_holds_the_endpoint_schemas():
    names = {"CaseListParams", "ContactCheckIn", "ContactCheckOut", "DebtorFlagOut", "FlagPageOut", "FlagIn",
             "FlagLiftIn", "CaseOut", "ErrorOut"}
    assert all(issubclass(getattr(schemas, name), Schema) for name in names)
    assert schema_classes(ast.parse("class A(ninja.Schema): ...\nclass B(A): ...\nclass C(Schema): ...")) == ["A", "C"]
