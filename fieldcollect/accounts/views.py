"""Log in: password (throttled, see ``login_security``), then for bank roles a TOTP code; first-time
bank users enrol an authenticator app (QR code) before they get in."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth import login as auth_login
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from fieldcollect.accounts import totp
from fieldcollect.accounts.login_security import BLOCKED_ATTR, client_ip, locked_until, record_failure
from fieldcollect.audit.services import audit_log
from fieldcollect.core.models import User

PENDING = "fc_2fa_pending"
PENDING_SECONDS = 300


def _locked_message(until: Any) -> str:
    minutes = max(1, int((until - timezone.now()).total_seconds() // 60) + 1)
    return _("Too many failed attempts. Try again in %(minutes)d minutes.") % {"minutes": minutes}


class ThrottledAuthenticationForm(AuthenticationForm):
    locked = False

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except ValidationError:
            until = getattr(self.request, BLOCKED_ATTR, None) if self.request is not None else None
            if until is not None:
                self.locked = True
                raise ValidationError(_locked_message(until), code="locked") from None
            raise


class FieldcollectLoginView(LoginView):
    """Log in; bank users continue to the second factor; then bank users land on the portfolio
    overview, agency users on their cases."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True
    authentication_form = ThrottledAuthenticationForm

    def get_default_redirect_url(self) -> str:
        user = self.request.user
        if isinstance(user, User) and user.is_agency_user:
            return "/cases/"
        return super().get_default_redirect_url()

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if not totp.requires_second_factor(user):
            return super().form_valid(form)
        nxt = self.get_redirect_url()
        self.request.session[PENDING] = {"user": user.pk, "backend": getattr(user, "backend", ""),
                                         "at": time.time(), "next": nxt}
        with transaction.atomic():
            audit_log(actor=user, action="login.password_ok", object_type="user", object_id=user.pk,
                      new={"ip": client_ip(self.request), "second_factor": "required"})
        return redirect("totp_verify" if totp.confirmed_device(user) else "totp_setup")


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Code"), max_length=12,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                                         "autofocus": True, "pattern": "[0-9 ]*"}))


def _pending_user(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    data = request.session.get(PENDING)
    if not isinstance(data, dict) or time.time() - float(data.get("at", 0)) > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=int(data.get("user") or 0), is_active=True).first()
    return (user, data) if user is not None else None


def _finish(request: HttpRequest, user: User, data: dict[str, Any]) -> HttpResponse:
    request.session.pop(PENDING, None)
    request.session["fc_2fa_verified"] = True
    auth_login(request, user, backend=data.get("backend") or None)
    return HttpResponseRedirect(data.get("next") or "/")


def _wrong_code(request: HttpRequest, user: User) -> None:
    with transaction.atomic():
        record_failure(username=user.get_username(), ip=client_ip(request))
        audit_log(actor=user, action="login.second_factor_failed", object_type="user", object_id=user.pk,
                  new={"ip": client_ip(request)})


def _second_factor_step(
        view: Callable[[HttpRequest, User, dict[str, Any]], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """A page of the second step of logging in: for the user whose password was accepted a moment ago
    (``view`` gets that user and the pending log-in), else back to the log-in page; the code posted
    is kept out of error reports, the page out of caches."""

    @sensitive_post_parameters("code")
    @csrf_protect
    @never_cache
    @functools.wraps(view)
    def step(request: HttpRequest) -> HttpResponse:
        pending = _pending_user(request)
        if pending is None:
            request.session.pop(PENDING, None)
            return redirect("login")
        user, data = pending
        return view(request, user, data)

    return step


def _code_entered(request: HttpRequest, user: User, data: dict[str, Any], form: CodeForm,
                  accepts: Callable[[str], bool]) -> tuple[HttpResponse | None, str]:
    """A posted second-factor code: log in when ``accepts`` it (the response), else the error to show
    (locked out, or a wrong code recorded as a failure); nothing posted: no response, no error."""
    if request.method != "POST" or not form.is_valid():
        return None, ""
    until = locked_until(username=user.get_username(), ip=client_ip(request))
    if until is not None:
        return None, _locked_message(until)
    if accepts(form.cleaned_data["code"]):
        return _finish(request, user, data), ""
    _wrong_code(request, user)
    return None, _("The code is not valid. Enter the current code from your authenticator app.")


@_second_factor_step
def totp_verify(request: HttpRequest, user: User, data: dict[str, Any]) -> HttpResponse:
    device = totp.confirmed_device(user)
    if device is None:
        return redirect("totp_setup")
    form = CodeForm(request.POST or None)
    done, error = _code_entered(request, user, data, form, lambda code: totp.check_code(device, code))
    if done is not None:
        return done
    return render(request, "registration/totp_verify.html", {"form": form, "error": error, "pending_user": user})


@_second_factor_step
def totp_setup(request: HttpRequest, user: User, data: dict[str, Any]) -> HttpResponse:
    if totp.confirmed_device(user) is not None:
        return redirect("totp_verify")
    device = totp.pending_device(user)
    form = CodeForm(request.POST or None)
    done, error = _code_entered(request, user, data, form, lambda code: totp.confirm_enrolment(device, code))
    if done is not None:
        return done
    uri = totp.provisioning_uri(device)
    return render(request, "registration/totp_setup.html", {
        "form": form, "error": error, "pending_user": user, "secret": device.secret, "uri": uri,
        "qr_svg": totp.qr_svg(uri),
    })
