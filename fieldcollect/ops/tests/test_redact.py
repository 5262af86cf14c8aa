"""Customer link tokens never reach a log line (issue 17, item 4): every route of the URL conf that
takes a ``token`` is redacted in gunicorn's access log, in the JSON log lines and in the Django app's
own log handlers (``django.request``'s "Not Found: <path>", runserver's request lines)."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from gunicorn.config import Config

from fieldcollect.ops import gunicorn_conf
from fieldcollect.ops.logging import JsonFormatter
from fieldcollect.ops.redact import REDACTED, customer_routes, redact_customer_links
from fieldcollect.visits import links

# the customer links the product sends (a new route with a token joins the list by itself)
EXPECTED = {"visits:customer", "visits:customer_answer", "visits:feedback", "plans:customer",
            "plans:customer_accept", "plans:customer_decline", "plans:customer_pdf",
            "complaints:customer_file", "complaints:customer_answer"}
_ARGS = re.compile(r"<(?:\w+:)?(\w+)>")
TOKEN = links.make_token(purpose="appointment", object_id=4711, nonce="n0nce-n0nce",
                         expires_at=datetime(2030, 1, 1, tzinfo=UTC))


def _url(route) -> str:
    kwargs = {name: TOKEN if name == "token" else "confirm" for name in _ARGS.findall(route.route)}
    if route.name == "password_reset_confirm":
        kwargs["uidb64"] = "MQ"
    return reverse(route.name, kwargs=kwargs)


ROUTES = customer_routes()


def test_every_customer_route_is_in_the_one_list():
    names = {r.name for r in ROUTES}
    assert names >= EXPECTED
    assert all("token" in r.route for r in ROUTES)


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_each_customer_route_is_redacted_in_every_form(route):
    path = _url(route)
    assert TOKEN in path
    forms = [f'203.0.113.9 "GET {path}?lang=zh HTTP/1.1" 200 512 3ms',
             f"https://bank.example{path}",
             f"Not Found: {path}",
             path.replace(TOKEN, quote(TOKEN, safe=""))]  # percent-encoded by the client
    for text in forms:
        out = redact_customer_links(text)
        assert TOKEN not in out and quote(TOKEN, safe="") not in out and REDACTED in out, out
        assert out.split(REDACTED)[0] == text.split(path.split(TOKEN)[0])[0] + path.split(TOKEN)[0]


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_gunicorn_access_log_redacts_each_customer_route(route):
    assert gunicorn_conf.logger_class is gunicorn_conf.RedactingLogger
    path = _url(route)
    logger = gunicorn_conf.RedactingLogger(Config())
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": path + "?x=1", "PATH_INFO": path, "QUERY_STRING": "x=1",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.9",
               "HTTP_REFERER": "https://bank.example" + path}
    req = SimpleNamespace(headers=[("REFERER", "https://bank.example" + path)])
    resp = SimpleNamespace(status="302 Found", sent=0, headers=[("Location", path)])
    atoms = logger.atoms(resp, req, environ, timedelta(milliseconds=3))
    for fmt in (gunicorn_conf.access_log_format, '%(r)s %(U)s %(f)s %({referer}i)s %({location}o)s %({raw_uri}e)s'):
        line = fmt % logger.atoms_wrapper_class(atoms)
        assert TOKEN not in line and REDACTED in line, line


def test_json_log_lines_are_redacted_and_staff_paths_are_kept():
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found: %s",
                               (f"/visits/a/{TOKEN}/",), None)
    record.path = f"/plans/a/{TOKEN}/accept"  # an ``extra`` too
    line = JsonFormatter().format(record)
    assert TOKEN not in line and json.loads(line)["msg"] == f"Not Found: /visits/a/{REDACTED}/"
    # hard negatives: staff routes, ids, times and digests stay as they are
    for text in ('"GET /cases/12/ HTTP/1.1" 200', "/visits/case/3/propose", "/plans/7/",
                 "2026-12-06T18:26:39.123+00:00", "sha256=" + "ab" * 32, "/api/v1/cases?page=2"):
        assert redact_customer_links(text) == text


@pytest.mark.django_db
def test_the_django_app_log_handlers_redact_a_request_for_a_customer_route():
    """A refused link answers 404/410, which ``django.request`` logs with the path: through the handlers
    ``settings.LOGGING`` configures, the token is gone."""
    logging.config.dictConfig(settings.LOGGING)
    buf = io.StringIO()
    handlers = [*logging.getLogger().handlers, *logging.getLogger("django.server").handlers]
    assert handlers
    old = [h.setStream(buf) for h in handlers]  # type: ignore[attr-defined]
    try:
        Client().get(f"/visits/a/{TOKEN}/")  # unknown appointment: 404, logged as "Not Found: <path>"
        logging.getLogger("django.server").info('"GET /plans/a/%s/ HTTP/1.1" 404 10', TOKEN)
    finally:
        for h, stream in zip(handlers, old, strict=True):
            h.setStream(stream)  # type: ignore[attr-defined]
    out = buf.getvalue()
    assert "Not Found: /visits/a/[redacted]/" in out and "/plans/a/[redacted]/" in out
    assert TOKEN not in out
