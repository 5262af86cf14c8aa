"""`fieldcollect keys init|status|rotate`: the encryption keys of the data home.

Every value is bound to its table, column and row (``fc2``); ``status`` counts the values still in the
earlier unbound format (``fc1``) or in clear, and ``rotate`` rewrites them bound as well.

``rotate`` makes a new data key the primary one (new values are written under it at once, by every
process, within :data:`~fieldcollect.privacy.crypto.RELOAD_SECONDS`), re-encrypts every encrypted
column in short batches while the application keeps serving (values under the old key stay readable
throughout), and retires the old key when no value refers to it any more.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer

from fieldcollect.bootstrap import migrate_quietly, setup_django

app = typer.Typer(no_args_is_help=True)


def _django() -> None:
    setup_django()
    migrate_quietly()


def encrypted_models() -> list[Any]:
    """Every installed model with an encrypted column."""
    from django.apps import apps

    from fieldcollect.privacy.fields import encrypted_fields

    return [m for m in apps.get_models() if encrypted_fields(m)]


def value_counts() -> dict[str, dict[str, int]]:
    """``{"app.Model": {key_id or "plain": values}}``."""
    from fieldcollect.privacy.fields import count_by_key

    return {m._meta.label: count_by_key(m) for m in encrypted_models()}


@dataclass
class RotationResult:
    new_key: str
    retired: list[str]
    changed: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def rotate_data_key(*, batch_size: int = 2_000, settle_seconds: float | None = None,
                    progress: Callable[[str, int, int, int], None] | None = None) -> RotationResult:
    """Rotate: new primary key, re-encrypt all rows, retire the keys nothing refers to any more.

    ``settle_seconds`` (default: the key ring's reload interval plus a margin) is waited after the new
    key is published so that every serving process writes under it before the sweep starts.
    ``progress(model_label, rows_seen, rows_total, rows_changed)`` is called after each batch.
    """
    from django.db import transaction

    from fieldcollect.audit.services import audit_log
    from fieldcollect.privacy.crypto import RELOAD_SECONDS
    from fieldcollect.privacy.fields import current_keyring, reencrypt_rows

    started = time.monotonic()
    ring = current_keyring()
    old = {k.key_id for k in ring.data_keys() if k.status in {"primary", "active"}}
    new_key = ring.add_primary()
    time.sleep(RELOAD_SECONDS + 0.5 if settle_seconds is None else settle_seconds)
    result = RotationResult(new_key=new_key, retired=[])
    for _attempt in range(3):  # a second sweep catches values a slow process wrote under an old key
        for model in encrypted_models():
            label = model._meta.label
            total = model.objects.count()

            def report(seen: int, changed: int, label: str = label, total: int = total) -> None:
                if progress is not None:
                    progress(label, seen, total, changed)

            n = reencrypt_rows(model, batch_size=batch_size, with_index=False, ring=ring, on_batch=report)
            result.changed[label] = result.changed.get(label, 0) + n
        remaining = {kid for counts in value_counts().values() for kid in counts if kid in old or kid == "plain"}
        if not remaining:
            break
    left = {kid for counts in value_counts().values() for kid in counts}
    retire = {kid for kid in old if kid not in left}
    ring.retire(retire)
    result.retired = sorted(retire)
    result.seconds = time.monotonic() - started
    with transaction.atomic():
        audit_log(actor=None, action="keys.rotate", object_type="DataKey", object_id=new_key,
                  new={"new_key": new_key, "retired": result.retired, "changed": result.changed,
                       "seconds": round(result.seconds, 2)})
    return result


@app.command("init")
def init() -> None:
    """Create the master key file and the key ring if they are missing (`make run` does it too)."""
    from fieldcollect.home import keys_dir
    from fieldcollect.privacy.crypto import master_key_source
    from fieldcollect.privacy.fields import current_keyring

    ring = current_keyring()
    typer.echo(f"master key: {master_key_source(keys_dir())}")
    typer.echo(f"key ring: {ring.path} (primary data key {ring.primary_id})")


@app.command("status")
def status() -> None:
    """Keys in the ring and how many stored values each one encrypts."""
    _django()
    from rich.console import Console
    from rich.table import Table

    from fieldcollect.home import keys_dir
    from fieldcollect.privacy.crypto import master_key_source
    from fieldcollect.privacy.fields import count_unbound, current_keyring

    ring = current_keyring()
    counts = value_counts()
    unbound = sum(count_unbound(m) for m in encrypted_models())
    per_key: dict[str, int] = {}
    for c in counts.values():
        for kid, n in c.items():
            per_key[kid] = per_key.get(kid, 0) + n
    console = Console()
    console.print(f"master key: {master_key_source(keys_dir())}; key ring: {ring.path}")
    table = Table("key id", "status", "created", "retired", "values")
    for k in ring.data_keys():
        table.add_row(k.key_id, k.status, k.created_at, k.retired_at or "", f"{per_key.get(k.key_id, 0):,}")
    if per_key.get("plain"):
        table.add_row("(plaintext)", "", "", "", f"{per_key['plain']:,}")
    console.print(table)
    detail = Table("model", *sorted(per_key))
    for label, c in counts.items():
        detail.add_row(label, *[f"{c.get(k, 0):,}" for k in sorted(per_key)])
    console.print(detail)
    console.print(f"values not bound to their row (fc1 or clear): {unbound:,}")
    if unbound:
        console.print("`fieldcollect keys rotate` binds them")


@app.command("rotate")
def rotate(
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Rows per transaction")] = 2_000,
) -> None:
    """New data key; re-encrypt every encrypted value in batches while the app keeps serving."""
    _django()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    tasks: dict[str, Any] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn()) as bar:

        def progress(label: str, seen: int, total: int, changed: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=max(total, 1))
            bar.update(tasks[label], completed=min(seen, max(total, 1)),
                       description=f"{label} ({changed:,} re-encrypted)")

        result = rotate_data_key(batch_size=batch_size, progress=progress)
    typer.echo(f"primary data key {result.new_key}; retired {', '.join(result.retired) or 'none'}; "
               f"re-encrypted {sum(result.changed.values()):,} rows in {result.seconds:.1f} s")
