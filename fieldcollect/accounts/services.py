"""Writes on users (audited)."""

from __future__ import annotations

from django.db import transaction

from fieldcollect.accounts.errors import UserErrorCode
from fieldcollect.audit.services import audit_log
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import AGENCY_ROLES, Role, User


def user_create(*, username: str, password: str, role: str, agency_id: int | None,
                acting_user: User | None, is_superuser: bool = False, first_name: str = "") -> User:
    """Create a user with one role; agency roles need an agency, bank roles must not have one."""
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}.", code=UserErrorCode.INVALID_ROLE)
    if (role in AGENCY_ROLES) != (agency_id is not None):
        raise ApplicationError("Agency roles need an agency; bank roles have none.", code=UserErrorCode.INVALID_AGENCY)
    if User.objects.filter(username=username).exists():
        raise ApplicationError(f"User {username!r} exists.", code=UserErrorCode.EXISTS)
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password, role=role, agency_id=agency_id,
                                        first_name=first_name)
        if is_superuser:
            user.is_superuser = True
            user.is_staff = True
            user.save(update_fields=["is_superuser", "is_staff"])
        audit_log(actor=acting_user, action="user.create", object_type="user", object_id=user.pk,
                  new={"username": username, "role": role, "agency_id": agency_id, "superuser": is_superuser},
                  actor_label="" if acting_user else "cli")
    return user


def user_set_role(*, user: User, role: str, agency_id: int | None, acting_user: User | None) -> User:
    """Change a user's role (and agency); audited with the old and new values."""
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}.", code=UserErrorCode.INVALID_ROLE)
    if (role in AGENCY_ROLES) != (agency_id is not None):
        raise ApplicationError("Agency roles need an agency; bank roles have none.", code=UserErrorCode.INVALID_AGENCY)
    with transaction.atomic():
        old = {"role": user.role, "agency_id": user.agency_id}
        user.role = role
        user.agency_id = agency_id
        user.save(update_fields=["role", "agency"])
        audit_log(actor=acting_user, action="user.permissions_change", object_type="user", object_id=user.pk,
                  old=old, new={"role": role, "agency_id": agency_id}, actor_label="" if acting_user else "cli")
    return user


def user_set_active(*, user: User, active: bool, acting_user: User | None) -> User:
    """Enable or disable a login (a disabled user's sessions and API tokens stop working)."""
    with transaction.atomic():
        old = {"is_active": user.is_active}
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit_log(actor=acting_user, action="user.permissions_change", object_type="user", object_id=user.pk,
                  old=old, new={"is_active": active}, actor_label="" if acting_user else "cli")
    return user
