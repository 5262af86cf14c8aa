"""The public API under ``/api/v1``: bearer tokens, one JSON error shape, stable error codes. The
NinjaAPI object and its error handlers are built in :mod:`fieldcollect.api.instance`; this module mounts
the routers on it.

Every error looks like ``{"error": {"code": "case.not_found", "message": "...", "extra": {...}}}``.
"""

from __future__ import annotations

from django.http import HttpRequest

from fieldcollect.api.cases import router as cases_router
from fieldcollect.api.cases import tasks_router
from fieldcollect.api.field import router as field_router
from fieldcollect.api.flags import router as flags_router
from fieldcollect.api.instance import api
from fieldcollect.api.legal import router as legal_router
from fieldcollect.api.payments import router as payments_router
from fieldcollect.api.recordings import router as recordings_router
from fieldcollect.api.results import router as results_router
from fieldcollect.api.schemas import MeOut
from fieldcollect.core.models import User


@api.get("/me", response=MeOut, tags=["users"])
def me(request: HttpRequest) -> dict:
    user: User = request.auth  # type: ignore[attr-defined]
    return {"username": user.username, "role": user.role, "agency_id": user.agency_id}


api.add_router("/cases", cases_router)
api.add_router("/cases", flags_router)
api.add_router("/cases", legal_router)
api.add_router("/tasks", tasks_router)
api.add_router("/field", field_router)
api.add_router("/payments", payments_router)
api.add_router("/recordings", recordings_router)
api.add_router("/results", results_router)
