"""Moving a model from one app to another without touching its rows (issue 18: the outbox, the audit
log and the accounts' models left ``visits`` and ``core``).

The recipe, as in Django's documentation of ``SeparateDatabaseAndState``: the model keeps its table
(``Meta.db_table`` names the old one, so no row is copied and encrypted values stay bound to their
table); the new app's first migration creates the model in the migration state only
(:func:`state_only`), foreign keys of other apps are pointed at the new model in the state only, and
the old app's next migration deletes the model from its state only. :func:`content_types_moved`
carries the content type (and with it the permissions and the admin's history) to the new app.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def state_only(*operations: Any) -> migrations.SeparateDatabaseAndState:
    """``operations`` applied to the migration state only: the database already has the tables."""
    return migrations.SeparateDatabaseAndState(state_operations=list(operations), database_operations=[])


def _relabel(apps: Any, source: str, target: str, models: tuple[str, ...]) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in models:
        if content_type.objects.filter(app_label=target, model=model).exists():
            continue  # already created for the new app (a database set up after the move): leave the old one stale
        content_type.objects.filter(app_label=source, model=model).update(app_label=target)


def content_types_moved(old_app: str, new_app: str, *models: str) -> migrations.RunPython:
    """Relabel the content types of ``models`` (lower-case model names) from ``old_app`` to ``new_app``
    and back when migrating back; the migration must depend on ``contenttypes``' latest migration."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        _relabel(apps, old_app, new_app, models)

    def backwards(apps: Any, schema_editor: Any) -> None:
        _relabel(apps, new_app, old_app, models)

    return migrations.RunPython(forwards, backwards, elidable=False)
