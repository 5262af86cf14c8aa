"""The NinjaAPI object of the public API and its one JSON error shape. Built here, apart from the
routers, so that a router module can use it (``api.create_response``) without importing
:mod:`fieldcollect.api.api`, which mounts the routers.

Every error looks like ``{"error": {"code": "case.not_found", "message": "...", "extra": {...}}}``.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from fieldcollect.api.auth import BearerToken
from fieldcollect.core.errors import ApplicationError

api = NinjaAPI(
    title="fieldcollect API",
    version="1",
    description="Cases, contacts, promises, tasks and debtor flags for the bank and its collection agencies.",
    auth=BearerToken(),
    urls_namespace="api-v1",
)


def _error(request: HttpRequest, status: int, code: str, message: str, extra: dict | None = None) -> HttpResponse:
    return api.create_response(request, {"error": {"code": code, "message": message, "extra": extra or {}}},
                               status=status)


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return _error(request, exc.status_code, exc.code, exc.message, exc.extra)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _error(request, 422, "request.invalid", "The request is not valid.", {"errors": exc.errors})


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "auth.unauthorized", "A valid bearer token is required.")


@api.exception_handler(AuthorizationError)
def _authorization_error(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return _error(request, 403, "permission.denied", str(exc.message))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", "Not found.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "http_error", str(exc.message))
