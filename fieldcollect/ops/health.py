"""Liveness (``/healthz``: the process answers) and readiness (``/readyz``: database reachable,
migrations applied, columnar store readable)."""

from __future__ import annotations

import time
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse

from fieldcollect.ingest.store import current_version


def check_database(alias: str = DEFAULT_DB_ALIAS) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "ms": round(1000 * (time.perf_counter() - t0), 1)}


def check_migrations(alias: str = DEFAULT_DB_ALIAS) -> dict[str, Any]:
    try:
        executor = MigrationExecutor(connections[alias])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    pending = [f"{m.app_label}.{m.name}" for m, _ in plan]
    return {"ok": not pending, "pending": pending[:20]}


def check_store() -> dict[str, Any]:
    try:
        version = current_version()
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    if version is None:
        return {"ok": True, "version": None}
    missing = [t for t in version.counts if not version.table_files(t)]
    return {"ok": not missing, "version": version.name, "missing_tables": missing}


def readiness() -> tuple[bool, dict[str, Any]]:
    checks = {"database": check_database()}
    checks["migrations"] = check_migrations() if checks["database"]["ok"] else {"ok": False, "error": "no database"}
    checks["store"] = check_store()
    return all(c["ok"] for c in checks.values()), checks


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    ok, checks = readiness()
    return JsonResponse({"status": "ready" if ok else "not ready", "checks": checks}, status=200 if ok else 503)
