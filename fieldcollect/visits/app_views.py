"""The collector's phone app at ``/app/``: an installable web app (manifest and service worker) that
works offline. The page is a shell; the app itself is plain ES modules under
``fieldcollect/static/fieldcollect/app/`` that read today's stops from ``/api/v1/field/today``, keep them
and the collector's queued actions in IndexedDB, and send the actions through ``/api/v1/field/sync``.

Only a field collector (a user linked to an ``agencies.Collector``) gets the page; an anonymous visitor
is sent to the log-in page. The manifest and the service worker hold no personal data.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from fieldcollect.agencies.models import Collector
from fieldcollect.cases.access import cases_visible_to
from fieldcollect.compliance.selectors import pack_for, third_party_may_discuss_debt
from fieldcollect.core.errors import PermissionDeniedError
from fieldcollect.core.maptiles import tile_config
from fieldcollect.core.models import User
from fieldcollect.core.pages import errors_as_pages
from fieldcollect.core.pages import request_user as _user
from fieldcollect.visits.errors import VisitErrorCode as E
from fieldcollect.visits.models import VisitOutcome
from fieldcollect.visits.services.reports import met_allows

STATIC = Path(__file__).resolve().parents[1] / "static"
APP_STATIC = STATIC / "fieldcollect" / "app"
# the files the service worker keeps for offline use, relative to the static root
SHELL_FILES = ("fieldcollect/app.css", "fieldcollect/vendor/idb/idb.js")
FIELD_API = "/api/v1/field"  # the field API the app uses (fieldcollect/api/field.py)
CHUNK_BYTES = 256 * 1024  # evidence is uploaded in chunks of this size (resumed after a dropped connection)

MET = ("debtor", "family", "third_party", "nobody")
# outcomes that make no sense when the debtor opened the door (the form does not offer them)
NOT_WITH_DEBTOR = frozenset({VisitOutcome.NOT_HOME, VisitOutcome.THIRD_PARTY_MET})
IDENTITY_CHECKS = ("id_card", "security_questions", "known_in_person")


def _collector_or_403(request: HttpRequest) -> Collector:
    collector = Collector.objects.filter(user=_user(request)).first()
    if collector is None:
        raise PermissionDeniedError(_("Only a field collector can do this."), code=E.NOT_COLLECTOR)
    return collector


def report_form_rules(user: User) -> tuple[dict[str, list[list[str]]], list[str]]:
    """The outcomes the report form offers for each answer to "who was met", and the answers with
    which the debt may be discussed (a promise, the repayment code): from the one rule,
    :func:`fieldcollect.visits.services.reports.met_allows`, under the packs of the collector's
    cases (the strictest when they differ; the server checks each report against its case's pack)."""
    jurisdictions = set(cases_visible_to(user).values_list("loan__jurisdiction", flat=True).distinct())
    may_discuss = bool(jurisdictions) and all(third_party_may_discuss_debt(pack_for(j)) for j in jurisdictions)
    outcomes: dict[str, list[list[str]]] = {}
    discuss: list[str] = []
    for met in MET:
        allowed = met_allows(met=met, may_discuss_debt=may_discuss)
        if allowed is None:
            discuss.append(met)
        outcomes[met] = [[o.value, str(o.label)] for o in VisitOutcome
                         if (allowed is None or o.value in allowed) and not (met == "debtor" and o in NOT_WITH_DEBTOR)]
    return outcomes, discuss


def _strings() -> dict[str, str]:
    """Every string the app's scripts show, in the page's language."""
    return {
        "today": _("Today's route"),
        "no_plan": _("No published day plan for today."),
        "offline": _("Offline: showing the stops kept on this phone."),
        "online": _("Online"),
        "loaded_at": _("Stops kept on this phone since"),
        "sync": _("Sync now"),
        "syncing": _("Sending…"),
        "queue_empty": _("Nothing waiting."),
        "state_waiting": _("waiting"),
        "state_sent": _("sent"),
        "state_refused": _("refused"),
        "dismiss": _("Dismiss"),
        "kind_checkin": _("Check-in"),
        "kind_report": _("Visit report"),
        "kind_promise": _("Promise to pay"),
        "kind_photo": _("Photo"),
        "kind_audio": _("Audio recording"),
        "case": _("Case"),
        "amount_due": _("Amount due"),
        "dpd": _("Days past due"),
        "window": _("Window"),
        "address": _("Address"),
        "customer": _("Customer"),
        "navigate": _("Navigate"),
        "amap": _("Amap"),
        "baidu": _("Baidu Maps"),
        "apple": _("Apple Maps"),
        "repay": _("Repayment (the bank's official channel; never take cash)"),
        "repay_link": _("Open the bank's repayment page"),
        "check_in": _("Check in here"),
        "locating": _("Finding the position…"),
        "no_position": _("The position could not be found; allow location and try again."),
        "checked_in": _("Checked in"),
        "recording": _("Recording the visit"),
        "no_recording": _("The microphone is not available: the visit is not being recorded."),
        "report": _("Visit report"),
        "met": _("Who was met"),
        "met_debtor": _("The debtor"),
        "met_family": _("A family member"),
        "met_third_party": _("Another third party"),
        "met_nobody": _("Nobody"),
        "identity_check": _("How the debtor's identity was confirmed"),
        "identity_id_card": _("Identity card shown"),
        "identity_security_questions": _("Answered the security questions"),
        "identity_known_in_person": _("Known in person from an earlier visit"),
        "third_party_note": _("A third party: do not disclose the debt; record no payment talk."),
        "outcome": _("Outcome"),
        "notes": _("Notes"),
        "promise": _("Promise to pay"),
        "promise_amount": _("Amount (yuan)"),
        "promise_due": _("Due date"),
        "found": _("Learnt at the door"),
        "new_phone": _("New phone number"),
        "new_address": _("New address (the customer moved)"),
        "invalid_phone": _("Not a phone number."),
        "photo": _("Photo"),
        "end_visit": _("End the visit and save the report"),
        "saved": _("Saved on this phone; it is sent when there is a connection."),
        "back": _("Back to the route"),
        "logout_warning": _("Some actions have not been sent yet. They stay on this phone and are sent at the "
                            "next log-in; today's stops are wiped now."),
        "logout_anyway": _("Log out anyway"),
        "wiped": _("The day is over: today's stops were wiped from this phone."),
        "stop_list": _("Stops of today"),
        "invalid_form": _("Complete the form: choose who was met, the outcome and, for the debtor, the identity check."),
        "not_installed": _("This browser cannot work offline (no service worker)."),
    }


@login_required
@errors_as_pages
@require_GET
def app_page(request: HttpRequest) -> HttpResponse:
    """The app's shell: the scripts read everything else from the API and IndexedDB."""
    collector = _collector_or_403(request)
    user = _user(request)
    outcomes, may_discuss = report_form_rules(user)
    config: dict[str, Any] = {
        "user": user.pk,
        "collector": collector.pk,
        "language": get_language(),
        "urls": {"field": FIELD_API, "today": f"{FIELD_API}/today", "sync": f"{FIELD_API}/sync",
                 "uploads": f"{FIELD_API}/uploads", "sw": reverse("collector_app:sw"),
                 "scope": reverse("collector_app:page")},
        "chunk_bytes": CHUNK_BYTES,
        "tiles": tile_config(),  # the Leaflet map's tile provider (None: the SVG map only)
        "outcomes": outcomes,
        "may_discuss_debt": may_discuss,
        "identity_checks": list(IDENTITY_CHECKS),
        "strings": _strings(),
    }
    response = render(request, "visits/app.html", {"config": config, "collector": collector})
    response["Permissions-Policy"] = settings.FIELDCOLLECT_APP_PERMISSIONS_POLICY
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest (installable: name, icons, start URL and scope ``/app/``)."""
    scope = reverse("collector_app:page")
    data = {
        "name": _("fieldcollect collector"),
        "short_name": _("Field visits"),
        "start_url": scope,
        "scope": scope,
        "id": scope,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#155e75",
        "lang": get_language(),
        "icons": [{"src": static(f"fieldcollect/app/icons/icon-{s}.png"), "sizes": f"{s}x{s}", "type": "image/png",
                   "purpose": "any"} for s in (192, 512)],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@cache
def _shell_files() -> tuple[str, ...]:
    app = sorted(str(p.relative_to(STATIC)) for p in APP_STATIC.rglob("*") if p.is_file() and p.name != "sw.js")
    return (*SHELL_FILES, *app)


def _version(files: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for name in (*files, "fieldcollect/app/sw.js"):
        digest.update(name.encode())
        digest.update((STATIC / name).read_bytes())
    return digest.hexdigest()[:16]


@never_cache
@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served from ``/app/sw.js`` so that its scope is the app's. The list of files it
    keeps and its version (a hash of their contents: a changed file installs a new worker) are written
    into it here."""
    files = _shell_files()
    source = (APP_STATIC / "sw.js").read_text(encoding="utf-8")
    source = source.replace("__VERSION__", json.dumps(_version(files))).replace(
        "__FILES__", json.dumps([static(f) for f in files]))
    response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("collector_app:page")
    return response
