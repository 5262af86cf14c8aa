"""Login throttling and lock-out, and the audit of every login, failed login and logout.

Failures are counted in the database (``LoginFailure``), so every server process sees the same counts:
``FIELDCOLLECT_LOGIN_MAX_FAILURES`` failures for one username, or ``FIELDCOLLECT_LOGIN_MAX_FAILURES_PER_IP``
from one address, within ``FIELDCOLLECT_LOGIN_WINDOW_SECONDS`` lock that username (or address) for
``FIELDCOLLECT_LOGIN_LOCKOUT_SECONDS`` after the last failure. Attempts while locked are refused without
checking the password and are not counted again. A successful login clears the username's failures.
Wrong second-factor codes count as failures too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from fieldcollect.accounts.models import LoginFailure
from fieldcollect.audit.services import audit_log
from fieldcollect.core.models import User

BLOCKED_ATTR = "_fc_login_locked_until"


@dataclass(frozen=True)
class Limits:
    max_failures: int
    max_failures_per_ip: int
    window: timedelta
    lockout: timedelta


def limits() -> Limits:
    return Limits(
        max_failures=int(getattr(settings, "FIELDCOLLECT_LOGIN_MAX_FAILURES", 5)),
        max_failures_per_ip=int(getattr(settings, "FIELDCOLLECT_LOGIN_MAX_FAILURES_PER_IP", 20)),
        window=timedelta(seconds=int(getattr(settings, "FIELDCOLLECT_LOGIN_WINDOW_SECONDS", 900))),
        lockout=timedelta(seconds=int(getattr(settings, "FIELDCOLLECT_LOGIN_LOCKOUT_SECONDS", 900))),
    )


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: the peer (REMOTE_ADDR), or, when the peer is one of the reverse proxies
    listed in ``FIELDCOLLECT_TRUSTED_PROXIES``, the last X-Forwarded-For address that is not one of
    them (without this, every client behind a proxy would share the proxy's address and its lock)."""
    if request is None:
        return None
    peer = request.META.get("REMOTE_ADDR") or None
    trusted = set(getattr(settings, "FIELDCOLLECT_TRUSTED_PROXIES", []))
    if peer is None or peer not in trusted:
        return peer
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    for addr in reversed(forwarded):
        if addr not in trusted:
            return addr
    return peer


def _lock_end(times_desc: list[datetime], limit: int, lim: Limits, now: datetime) -> datetime | None:
    """Locked while the latest ``limit`` failures fell within one window and the last of them is less
    than ``lockout`` ago."""
    if limit <= 0 or len(times_desc) < limit:
        return None
    latest, oldest = times_desc[0], times_desc[limit - 1]
    if latest - oldest > lim.window:
        return None
    until = latest + lim.lockout
    return until if until > now else None


def locked_until(*, username: str, ip: str | None, now: datetime | None = None) -> datetime | None:
    """When the lock on this username or address ends, or ``None`` if neither is locked."""
    lim = limits()
    now = now or timezone.now()
    since = now - lim.window - lim.lockout
    ends = []
    by_user = list(LoginFailure.objects.filter(username=username.lower(), at__gte=since).order_by("-at")
                   .values_list("at", flat=True)[: lim.max_failures])
    ends.append(_lock_end(by_user, lim.max_failures, lim, now))
    if ip:
        by_ip = list(LoginFailure.objects.filter(ip=ip, at__gte=since).order_by("-at")
                     .values_list("at", flat=True)[: lim.max_failures_per_ip])
        ends.append(_lock_end(by_ip, lim.max_failures_per_ip, lim, now))
    found = [e for e in ends if e is not None]
    return max(found) if found else None


def record_failure(*, username: str, ip: str | None) -> None:
    lim = limits()
    now = timezone.now()
    LoginFailure.objects.create(username=username.lower()[:150], ip=ip, at=now)
    LoginFailure.objects.filter(at__lt=now - lim.window - lim.lockout - timedelta(days=1)).delete()


def clear_failures(*, username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()).delete()


class ThrottledModelBackend(ModelBackend):
    """Django's username/password backend, refusing locked usernames and addresses outright."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> Any:
        name = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if name:
            until = locked_until(username=str(name), ip=client_ip(request))
            if until is not None:
                if request is not None:
                    setattr(request, BLOCKED_ATTR, until)
                raise PermissionDenied("locked out")  # Django then reports a failed login
        return super().authenticate(request, username=username, password=password, **kwargs)


@receiver(user_login_failed)
def _on_login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None,
                     **kwargs: Any) -> None:
    username = str(credentials.get("username") or credentials.get(User.USERNAME_FIELD) or "")
    ip = client_ip(request)
    blocked = getattr(request, BLOCKED_ATTR, None) if request is not None else None
    with transaction.atomic():
        if blocked is None:
            record_failure(username=username, ip=ip)
        audit_log(actor=None, action="login.locked" if blocked is not None else "login.failed",
                  object_type="user", object_id=username[:64],
                  new={"username": username, "ip": ip, **({"locked_until": blocked.isoformat()} if blocked else {})},
                  actor_label=username[:150] or "anonymous")


@receiver(user_logged_in)
def _on_logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    second = bool(request is not None and hasattr(request, "session") and request.session.get("fc_2fa_verified"))
    with transaction.atomic():
        clear_failures(username=user.get_username())
        audit_log(actor=user, action="login.success", object_type="user", object_id=user.pk,
                  new={"ip": client_ip(request), "second_factor": second})


@receiver(user_logged_out)
def _on_logged_out(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    if user is None or not user.is_authenticated:
        return
    with transaction.atomic():
        audit_log(actor=user, action="logout", object_type="user", object_id=user.pk,
                  new={"ip": client_ip(request)})
