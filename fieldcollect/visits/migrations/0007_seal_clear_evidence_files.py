"""Encrypt at rest the evidence files stored in clear before issue 17 (in place, idempotent): every
file of ``$FIELDCOLLECT_HOME/evidence`` whose content matches its SHA-256 name is sealed with
:mod:`fieldcollect.privacy.filecrypt`. The database is not changed."""

from django.db import migrations

from fieldcollect.home import home_dir
from fieldcollect.visits.evidence import seal_clear_files


def seal(apps, schema_editor):
    seal_clear_files(home_dir() / "evidence")


class Migration(migrations.Migration):

    dependencies = [
        ('visits', '0006_appointment_cancel_reason_outbox_appointment'),
    ]

    operations = [
        migrations.RunPython(seal, migrations.RunPython.noop, elidable=True),
    ]
