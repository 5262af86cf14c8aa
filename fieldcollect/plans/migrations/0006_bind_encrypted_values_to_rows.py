"""Bind every encrypted value to its table, column and row (issue 17); see
``fieldcollect.privacy.fields.bind_rows_operations``."""

from django.db import migrations

from fieldcollect.privacy.fields import bind_rows_operations


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0005_agreement_link_token_hash"),
    ]

    operations = bind_rows_operations("plans", "Hardship", "RestructuringProposal", "ProposalEvent", "PlanAgreement")
