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
