"""What the domain apps' records share, written once.

* :func:`by_user`: the user a record names (who created, recorded, verified or decided it): optional,
  never deleted while a record names them (``PROTECT``), and no reverse accessor on the user;
* :class:`NewestFirst`: a record stamped when it was created and listed newest first.

The fields keep the options their copies had, so the schema (and every migration) is unchanged. An
abstract base's fields come first in its models' ``_meta`` field order: :class:`NewestFirst` holds
only ``created_at`` (not editable, so no form or admin page lists it); the user reference is a
field factory, so it keeps its place among each model's own fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.db import models

if TYPE_CHECKING:
    from fieldcollect.core.models import User


def by_user() -> models.ForeignKey[User | None, User | None]:
    """A reference to the user who did something to a record (created, recorded, verified it)."""
    return models.ForeignKey("core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")


class NewestFirst(models.Model):
    """A record stamped when it is created, listed newest first (the id breaks ties).

    A model with a ``Meta`` of its own declares it ``class Meta(NewestFirst.Meta)`` to keep this
    ordering; with other abstract bases, :class:`NewestFirst` comes first among them."""

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]
