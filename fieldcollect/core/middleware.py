"""Language choice for pages: Simplified Chinese unless the user switched (language cookie).

Django's LocaleMiddleware would otherwise follow the browser's Accept-Language, so a bank employee
whose browser happens to be English would not get the bank's default language. The API keeps
Accept-Language (clients ask for the language of error messages explicitly).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


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
        self.csp = "; ".join(f"{k} {' '.join(v)}" for k, v in policy.items())
        self.permissions = getattr(settings, "FIELDCOLLECT_PERMISSIONS_POLICY", "")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.csp and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.csp
        if self.permissions and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.permissions
        return response
