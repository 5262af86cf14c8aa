"""Error codes of users and their API tokens."""

from __future__ import annotations

from enum import StrEnum


class UserErrorCode(StrEnum):
    """Error codes of users and their API tokens."""

    TOKEN_INVALID_NETWORK = "token.invalid_network"
    EXISTS = "user.exists"
    INVALID_AGENCY = "user.invalid_agency"
    INVALID_ROLE = "user.invalid_role"
