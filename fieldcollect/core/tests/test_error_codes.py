"""One error vocabulary per domain: every code an :class:`ApplicationError` carries is a member of an
error-code enum declared in the domain's ``errors.py`` (API clients match on these values), never a string
literal written at the raise site."""

from __future__ import annotations

import ast
import importlib
from enum import StrEnum
from pathlib import Path

from fieldcollect.plans.authority import ErrorCode as AuthorityErrorCode
from fieldcollect.plans.errors import PlanErrorCode

PACKAGE = Path(__file__).resolve().parents[2]

# apps allowed to write their codes inline (none: every domain has its errors.py)
EXEMPT_APPS: set[str] = set()


def _sources() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py"))
            if "tests" not in p.relative_to(PACKAGE).parts and "migrations" not in p.parts]


def _error_classes(trees: list[ast.Module]) -> set[str]:
    """The names of ApplicationError and every class deriving from it, anywhere in the package."""
    names = {"ApplicationError"}
    while True:
        found = {node.name for tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
                 and any((b.id if isinstance(b, ast.Name) else getattr(b, "attr", None)) in names
                         for b in node.bases)}
        if found <= names:
            return names
        names |= found


def _is_inline(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def inline_codes(tree: ast.Module, error_classes: set[str]) -> list[tuple[int, str]]:
    """(line, source) of every string literal given as ``code`` to an error class, and of every ``code``
    parameter defaulting to one (a helper that builds the error)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name in error_classes:
                found += [(k.value.lineno, ast.unparse(k.value)) for k in node.keywords
                          if k.arg == "code" and _is_inline(k.value)]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            positional = args.posonlyargs + args.args
            pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults, strict=True))
            pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
            found += [(d.lineno, ast.unparse(d)) for a, d in pairs if a.arg == "code" and _is_inline(d)]
    return sorted(found)


def test_no_inline_error_code_outside_the_errors_modules():
    files = _sources()
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in files}
    classes = _error_classes(list(trees.values()))
    assert {"NotFoundError", "ConflictError", "PermissionDeniedError", "ContactBlockedError",
            "InvalidParameters"} <= classes
    offenders = [f"{p.relative_to(PACKAGE.parent)}:{line}: {src}" for p, tree in trees.items()
                 if p.name != "errors.py" and p.relative_to(PACKAGE).parts[0] not in EXEMPT_APPS
                 for line, src in inline_codes(tree, classes)]
    assert offenders == [], "use the domain's error-code enum (its errors.py):\n" + "\n".join(offenders)


def test_the_scan_flags_literals_and_allows_enum_members_and_other_exceptions():
    tree = ast.parse(
        "raise NotFoundError('x', code='case.not_found')\n"
        "raise errors.ApplicationError('x', code=f'plan.{v}')\n"
        "def refuse(*, code: str = 'visit.no') -> None: ...\n"
        "raise NotFoundError('x', code=CaseErrorCode.NOT_FOUND)\n"
        "raise ApplicationError('x', code=PlanErrorCode(f'plan.{v}'))\n"
        "raise ValidationError('x', code='invalid')\n"
        "def blocked(*, code: str = ComplianceErrorCode.BLOCKED) -> None: ...\n")
    assert inline_codes(tree, {"ApplicationError", "NotFoundError"}) == [
        (1, "'case.not_found'"), (2, "f'plan.{v}'"), (3, "'visit.no'")]


def _vocabularies() -> list[type[StrEnum]]:
    enums: list[type[StrEnum]] = []
    for path in sorted(PACKAGE.glob("*/errors.py")):
        module = importlib.import_module(f"fieldcollect.{path.parent.name}.errors")
        enums += [v for v in vars(module).values()
                  if isinstance(v, type) and issubclass(v, StrEnum) and v is not StrEnum
                  and v.__module__ == module.__name__]
    return enums


def test_each_code_is_declared_once():
    seen: dict[str, str] = {}
    clashes: list[str] = []
    for enum in _vocabularies():
        for member in enum:
            if member.value in seen:
                clashes.append(f"{member.value}: {seen[member.value]} and {enum.__name__}")
            seen[member.value] = enum.__name__
    assert "case.not_found" in seen and "plan.not_found" in seen
    assert clashes == []


def test_every_maker_checker_violation_has_a_plan_code():
    assert {PlanErrorCode(f"plan.{code.value}") for code in AuthorityErrorCode} <= set(PlanErrorCode)
