"""Django test clients for the pages' tests."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.test import Client


def logged_in(user: Any, *, language: str | None = None) -> Client:
    """A test client with ``user``'s session (``force_login``: bank users log in with a second factor,
    the session stands for that here) and, when ``language`` is given, the language cookie."""
    client = Client()
    client.force_login(user)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client
