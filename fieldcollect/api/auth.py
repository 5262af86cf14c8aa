from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from fieldcollect.accounts.login_security import client_ip
from fieldcollect.accounts.tokens import token_authenticate


class BearerToken(HttpBearer):
    """``Authorization: Bearer fc_...`` — a per-user token created with ``fieldcollect token create``."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token, ip=client_ip(request), check_ip=True)
        if user is not None:
            request.user = user
        return user
