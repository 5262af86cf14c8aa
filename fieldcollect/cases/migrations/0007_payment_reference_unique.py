"""One payment per loan and reference (``store:<payment_id>`` or the bank's transaction reference).

Before adding the constraint, look for payments recorded twice. They are not removed automatically:
either copy may already be on an issued settlement statement (commission paid on it), so which one
goes is the bank's decision. The migration stops with the list of duplicates and what to do.
"""

from typing import Any

from django.db import migrations, models

SHOWN = 20


def refuse_duplicates(apps: Any, schema_editor: Any) -> None:
    Payment = apps.get_model("cases", "Payment")
    dups = list(
        Payment.objects.using(schema_editor.connection.alias).exclude(reference="")
        .values("loan_id", "reference").annotate(n=models.Count("id"), ids=models.Min("id"))
        .filter(n__gt=1).order_by("loan_id", "reference")
    )
    if not dups:
        return
    lines = []
    for d in dups[:SHOWN]:
        ids = list(Payment.objects.using(schema_editor.connection.alias)
                   .filter(loan_id=d["loan_id"], reference=d["reference"]).order_by("id").values_list("id", flat=True))
        lines.append(f"  loan {d['loan_id']} reference {d['reference']!r}: payments {ids}")
    more = f"\n  ... and {len(dups) - SHOWN} more" if len(dups) > SHOWN else ""
    raise RuntimeError(
        f"cannot make payment references unique: {len(dups)} reference(s) are recorded more than once on the "
        f"same loan:\n" + "\n".join(lines) + more
        + "\nDecide which copy to keep (check settlement statements first), delete the others in the "
          "database, then run the migration again."
    )


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0006_drop_indexes_covered'),
        ('portfolio', '0002_encrypt_customer_pii'),
    ]

    operations = [
        migrations.RunPython(refuse_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.UniqueConstraint(condition=models.Q(('reference', ''), _negated=True),
                                               fields=('loan', 'reference'), name='cases_payment_loan_reference_unique'),
        ),
    ]
