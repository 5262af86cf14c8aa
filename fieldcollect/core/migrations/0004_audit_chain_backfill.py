# Chain the audit entries written before the chain existed (in id order) and record the head.

from django.db import migrations

from fieldcollect.audit.chain import GENESIS, entry_hash


def backfill(apps, schema_editor):
    AuditEntry = apps.get_model('core', 'AuditEntry')
    AuditChainHead = apps.get_model('core', 'AuditChainHead')
    db = schema_editor.connection.alias
    seq, prev = 0, GENESIS
    batch = []
    for entry in AuditEntry.objects.using(db).order_by('id').iterator(chunk_size=2000):
        seq += 1
        entry.seq = seq
        entry.prev_hash = prev
        entry.hash = entry_hash({'seq': seq, 'at': entry.at, 'actor_id': entry.actor_id,
                                 'actor_label': entry.actor_label, 'action': entry.action,
                                 'object_type': entry.object_type, 'object_id': entry.object_id,
                                 'old': entry.old, 'new': entry.new, 'prev_hash': prev})
        prev = entry.hash
        batch.append(entry)
        if len(batch) >= 2000:
            AuditEntry.objects.using(db).bulk_update(batch, ['seq', 'prev_hash', 'hash'])
            batch = []
    if batch:
        AuditEntry.objects.using(db).bulk_update(batch, ['seq', 'prev_hash', 'hash'])
    AuditChainHead.objects.using(db).update_or_create(pk=1, defaults={'seq': seq, 'hash': prev})


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0003_audit_chain_auth'),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
