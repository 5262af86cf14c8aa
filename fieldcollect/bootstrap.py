"""Django set-up for command-line entry points (`fieldcollect ...`, the benchmarks).

Commands import their Django models inside the command function, after `setup_django()`: Django must be
configured before any model module is imported, and `fieldcollect --help` stays fast. This module imports
nothing from fieldcollect, so every CLI module can import it at module level without an import cycle.
"""

from __future__ import annotations

import os


def setup_django() -> None:
    """Configure Django for commands that touch the database (call `migrate_quietly` to bring the schema
    up to date)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def migrate_quietly() -> None:
    """Apply pending migrations without output."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
