"""Language choice for pages: Simplified Chinese unless the user switched (language cookie).

Django's LocaleMiddleware would otherwise follow the browser's Accept-Language, so a bank employee
whose browser happens to be English would not get the bank's default language. The API keeps
Accept-Language (clients ask for the language of error messages explicitly).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

from fieldcollect.core.maptiles import tile_config, tile_origins


class PageLanguageDefaultMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Content-Security-Policy (``FIELDCOLLECT_CSP``) and Permissions-Policy on every response that
    does not set its own. The other headers come from Django's SecurityMiddleware (nosniff,
    Referrer-Policy, Cross-Origin-Opener-Policy) and XFrameOptionsMiddleware (DENY)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from django.conf import settings

        self.get_response = get_response
        policy: dict[str, list[str]] = getattr(settings, "FIELDCOLLECT_CSP", {})
        self.policy = policy
        self.csp = "; ".join(f"{k} {' '.join(v)}" for k, v in policy.items())
        self.permissions = getattr(settings, "FIELDCOLLECT_PERMISSIONS_POLICY", "")

    def _csp(self) -> str:
        """The policy, with the map tile provider's hosts in ``img-src`` (read at each response: the
        provider is a setting, :mod:`fieldcollect.core.maptiles`)."""
        try:
            origins = tile_origins(tile_config())
        except ValueError:
            origins = []
        if not origins or not self.policy.get("img-src"):
            return self.csp
        policy = {**self.policy, "img-src": [*self.policy["img-src"], *origins]}
        return "; ".join(f"{k} {' '.join(v)}" for k, v in policy.items())

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.csp and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self._csp()
        if self.permissions and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.permissions
        return response


def _carries_nul(request: HttpRequest) -> bool:
    """A NUL byte in the path, the query string, a form body or a JSON body. Multipart bodies are not
    read here (an upload view installs its own handler before the body is read)."""
    if "\x00" in request.path or any("\x00" in v for vs in request.GET.lists() for v in vs[1]):
        return True
    content_type = request.content_type or ""
    if content_type == "application/x-www-form-urlencoded":
        return any("\x00" in v for vs in request.POST.lists() for v in vs[1])
    if content_type == "application/json":
        return b"\\u0000" in request.body or b"\x00" in request.body
    return False


class NulByteMiddleware:
    """NUL bytes never reach the database: PostgreSQL text cannot hold one (the query would fail with a
    500) and no field of the product takes one. A request carrying one is refused at the door: 422
    ``request.invalid`` in the API's error shape, 400 for pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _carries_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse({"error": {"code": "request.invalid", "extra": {},
                                               "message": "The request is not valid: it contains a NUL byte."}},
                                    status=422)
            return HttpResponseBadRequest(_("The request is not valid: it contains a NUL byte."),
                                          content_type="text/plain; charset=utf-8")
        return self.get_response(request)
