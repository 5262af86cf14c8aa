"""Helpers of the migration tests: migrate the test database to given nodes, and back to every app's
newest migration at the end (going back unapplies the other apps' migrations that depend on the
target's later ones, so the next test needs them all applied again)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets: Sequence[tuple[str, str | None]]) -> MigrationExecutor:
    """Migrate to ``targets`` (``(app, None)``: none of the app's migrations); the executor, whose
    ``loader.project_state(nodes).apps`` gives the historical models."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(list(targets))
    return executor


def latest() -> list[tuple[str, str]]:
    """Every app's newest migration (the graph's leaf nodes): where the next test expects the schema."""
    loader = MigrationExecutor(connection).loader
    loader.build_graph()
    return loader.graph.leaf_nodes()


def applied() -> set[tuple[str, str]]:
    """The migrations applied to the test database now."""
    return set(MigrationExecutor(connection).recorder.applied_migrations())
