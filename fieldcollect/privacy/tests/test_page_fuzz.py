"""Page fuzz test: every GET route of the URL configuration × every role (the bank's roles, an agency
manager, a field collector, anonymous) × hostile query values → never a 5xx.

The parameters a view reads are found by running it: while a request is served, every name looked up
in a ``QueryDict`` (``request.GET``, ``request.POST``, forms, templates) is recorded, and the next
requests of the route set them, with the common names of :data:`COMMON`, to the values of
:data:`HOSTILE`: each request gives every parameter a different hostile value (rotating, so that each
parameter sees each value), and each read parameter is also sent alone with a few values picked by a
seeded generator. Path parameters are filled with the objects of the caller's side, of the other
agency (the isolation test's world) and with an id too large for the database. The API under
``/api/v1`` is fuzzed from its OpenAPI document in ``test_api_fuzz.py`` (with these values too).
"""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from fieldcollect.privacy.tests import test_isolation as iso

pytestmark = pytest.mark.django_db
world = iso.world  # the fixture, shared

# values a person (or a script) may type into a query string
HOSTILE: tuple[str, ...] = (
    "Infinity", "-Infinity", "NaN", "1e309", "-1", "0", "9" * 20, "-" + "9" * 20, "9" * 400,
    "²", "٣", "６", "", " ", "x" * 10_000, "a\x00b", "2026-02-30", "0001-01-01", "9999-12-31", "2026-13",
    "1.5", "<script>", "%", "'", "../../etc/passwd", "all", "none", "1,2",
)
# query parameter names many views read: always sent beside the ones a view is seen to read
COMMON: tuple[str, ...] = (
    "page", "after", "cursor", "q", "agency", "case", "collector", "date", "day", "as_of", "month", "lang",
    "status", "city", "purpose", "next", "limit", "offset", "days", "amount_min", "dpd_min", "partial",
)
SEED = 17
INDIVIDUAL = 3  # hostile values sent alone for each parameter a view reads
HUGE_ID = 9 * 10**19  # fits no database integer


def _other_ids(world: iso.World) -> list[str]:
    b = world.sides["b"]
    return [str(b.agency.pk), str(b.case.pk), str(b.collector.pk), str(b.case.loan_id)]


def _path_values(route: iso.Route, world: iso.World, actor: iso.Actor) -> list[dict[str, Any]]:
    """Path parameter sets: the caller's side, the other agency's, and ids too large for a database."""
    sides = [actor.own or "b", "b"] if actor.own else ["b"]
    sets: list[dict[str, Any]] = []
    for side in dict.fromkeys(sides):
        sets.extend(s for s in iso._fill(route, world, side, {})[:2] if s not in sets)
    if any(p in iso.OBJECT_RULES for p in route.params) and sets:
        sets.append(sets[0] | {p: HUGE_ID for p in route.params if p in iso.OBJECT_RULES})
    return sets


def test_every_page_answers_hostile_query_values_without_a_server_error(world):
    rng = random.Random(SEED)
    routes = [r for r in iso.all_routes() if not r.pattern.startswith("api/")]  # the API: test_api_fuzz.py
    values = [*HOSTILE, *_other_ids(world)]
    actors: list[tuple[iso.Actor, Client]] = [(a, iso._client(world.users[a.key])) for a in iso.ACTORS]
    actors.append((iso.Actor("anonymous", None, ()), Client()))
    # each actor gives each parameter ROUNDS different values; across the actors every value is tried
    rounds = -(-len(values) // len(actors))
    failures: list[str] = []
    read: dict[str, set[str]] = {}
    requests = 0
    started = time.monotonic()

    def get(client: Client, url: str, query: dict[str, str], route: iso.Route, who: str) -> None:
        nonlocal requests
        requests += 1
        with iso.reads() as names:
            try:
                with transaction.atomic():  # a failed statement must not spoil the test's transaction
                    status = client.get(url, query, follow=False).status_code
            except Exception as exc:  # the test client re-raises a view's exception
                failures.append(f"{who} GET {url} -> {type(exc).__name__}: {str(exc)[:120]} with {_short(query)}")
                return
        read.setdefault(route.pattern, set()).update(n for n in names if len(n) < 40)
        if status >= 500 and status not in iso.EXPECTED_5XX.get(route.name, ()):
            failures.append(f"{who} GET {url} -> {status} with {_short(query)}")

    for route in routes:
        for k, (actor, client) in enumerate(actors):
            for n, path in enumerate(_path_values(route, world, actor)):
                url = route.url(path)
                get(client, url, {}, route, actor.key)
                if n > 0:
                    continue  # another side's ids, an id too large: the plain request is the test
                names = sorted(read.get(route.pattern, set()) | set(COMMON))
                for j in range(rounds if read.get(route.pattern) else 1):
                    offset = k * rounds + j
                    get(client, url, {name: values[(i + offset) % len(values)] for i, name in enumerate(names)},
                        route, actor.key)
                for name in sorted(read.get(route.pattern, set())):
                    get(client, url, {name: rng.choice(values)}, route, actor.key)
    elapsed = time.monotonic() - started
    assert requests > 2000, requests
    assert not failures, (f"{len(failures)} server errors in {requests} requests ({elapsed:.0f} s):\n"
                          + "\n".join(failures[:100]))


def _short(query: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}={v[:24]!r}" for k, v in query.items()) + "}"
