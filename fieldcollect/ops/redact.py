"""Customer link tokens never reach a log line.

A customer route is any route of the URL conf that takes a ``token`` argument (the signed links of
:mod:`fieldcollect.visits.links` and :mod:`fieldcollect.plans.links`: appointment confirmation,
feedback, complaint, plan acceptance...). :func:`customer_routes` derives the one list of them from
the URL conf, so a new customer route is redacted without being listed anywhere;
:func:`redact_customer_links` replaces the token segment of every such path in a text (a request
line, a referer, an absolute URL, a traceback) with :data:`REDACTED`. As a second line of defence it
also replaces anything shaped like a Django signed value (``payload:timestamp:signature``).

Used by gunicorn's access log (``ops/gunicorn_conf.py``), by the JSON log formatter and by the
Django app's own log handlers (``config/settings.py``): one rule, three channels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, URLResolver, get_resolver

__all__ = ["REDACTED", "TOKEN_ARGUMENT", "CustomerRoute", "customer_routes", "redact_customer_links"]

TOKEN_ARGUMENT = "token"
REDACTED = "[redacted]"
# what a token may be made of inside a path, a URL or a log line (stops at the next separator)
_TOKEN_CHARS = r"[^/?#\s\"'<>]+"
# Django's signing format: base64 payload (``.``-prefixed when compressed), base62 timestamp, base64 signature
_SIGNED_SHAPE = re.compile(r"\.?[A-Za-z0-9_-]{8,}(?::|%3[Aa])[A-Za-z0-9]{4,}(?::|%3[Aa])[A-Za-z0-9_-]{20,}")
_GROUP = re.compile(r"\(\?P<(\w+)>")


@dataclass(frozen=True)
class CustomerRoute:
    """A route whose path carries a customer's token: ``prefix`` matches the path up to the token."""

    name: str
    route: str
    prefix: re.Pattern[str]


def _fragment(pattern: Any) -> str:
    """The regular expression of one level of the URL conf, without its anchors."""
    text = pattern.regex.pattern
    text = text[1:] if text.startswith("^") else text
    for end in (r"\Z", "$"):
        if text.endswith(end):
            text = text[: -len(end)]
    return text


def _walk(patterns: Iterable[Any], prefix: str, route: str, namespace: str) -> Iterator[CustomerRoute]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + _fragment(p.pattern), route + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            full = prefix + _fragment(p.pattern)
            marker = f"(?P<{TOKEN_ARGUMENT}>"
            at = full.find(marker)
            if at < 0:
                continue
            before = _GROUP.sub("(?:", full[:at])  # other arguments before the token: any value
            yield CustomerRoute(name=f"{namespace}{p.name or ''}", route=route + str(p.pattern),
                                prefix=re.compile(f"(?<=/){before}(?={_TOKEN_CHARS})"))


_ROUTES: tuple[CustomerRoute, ...] | None = None


def customer_routes() -> tuple[CustomerRoute, ...]:
    """Every route of the URL conf with a ``token`` argument (computed once, when Django is ready)."""
    global _ROUTES
    if _ROUTES is None:
        _ROUTES = tuple(_walk(get_resolver().url_patterns, "", "", ""))
    return _ROUTES


_SUBS: list[re.Pattern[str]] | None = None


def _token_patterns() -> list[re.Pattern[str]]:
    """One pattern per distinct route prefix: group 1 is the prefix, the rest the token."""
    global _SUBS
    if _SUBS is None:
        try:
            routes = customer_routes()
        except (ImproperlyConfigured, ImportError):  # Django not configured yet: the signed shape still applies
            return []
        distinct = dict.fromkeys(r.prefix.pattern for r in routes)
        _SUBS = [re.compile(f"({p}){_TOKEN_CHARS}") for p in distinct]
    return _SUBS


def redact_customer_links(text: str) -> str:
    """``text`` with the token of every customer route (and any signed value) replaced by ``[redacted]``."""
    if not text:
        return text
    for pattern in _token_patterns():
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return _SIGNED_SHAPE.sub(REDACTED, text)
