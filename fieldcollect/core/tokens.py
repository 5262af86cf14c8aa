"""API bearer tokens: create (the secret is shown once), verify, revoke."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from fieldcollect.core.audit import audit_log
from fieldcollect.core.models import ApiToken, User

TOKEN_PREFIX = "fc_"
DEFAULT_TTL_DAYS = 90


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(*, user: User, acting_user: User | None = None, name: str = "",
                 ttl_days: int = DEFAULT_TTL_DAYS) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return the row and the secret (never stored)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=secret[:10],
            digest=_digest(secret),
            expires_at=timezone.now() + timedelta(days=ttl_days),
        )
        audit_log(actor=acting_user, action="token.create", object_type="api_token", object_id=token.pk,
                  new={"user": user.pk, "prefix": token.prefix, "expires_at": token.expires_at.isoformat()},
                  actor_label="" if acting_user else "cli")
    return token, secret


def token_revoke(*, token: ApiToken, acting_user: User | None = None) -> ApiToken:
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_log(actor=acting_user, action="token.revoke", object_type="api_token", object_id=token.pk,
                  actor_label="" if acting_user else "cli")
    return token


def token_authenticate(secret: str) -> User | None:
    """The active user a valid, unexpired, unrevoked token belongs to, else ``None``."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user", "user__agency")
        .filter(digest=_digest(secret), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    # touch at most once a minute to keep reads cheap
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
