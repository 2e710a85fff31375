"""Indexes that serve the sealer's and consent_verify's keyset walks (issue 12, part 5).

On PostgreSQL the ledger is partitioned by month: an index created on the parent is
created on every partition, and on partitions made later.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0008_ledger_roles"),
    ]

    # The new indexes first: there is never a moment without one that serves the sealer.
    operations = [
        migrations.AddIndex(
            model_name="consentrecord",
            index=models.Index(fields=["site", "created_at", "id"], name="consent_site_time_id"),
        ),
        migrations.AddIndex(
            model_name="merklenode",
            index=models.Index(
                condition=models.Q(("level", 0)),
                fields=["site", "record_created_at", "record_id"],
                name="merkle_leaf_time",
            ),
        ),
        # (site, created_at) is a prefix of the new ledger index; the leaf's record_id alone
        # served only the "already sealed?" check, which the new leaf index serves by range.
        migrations.RemoveIndex(model_name="consentrecord", name="consent_site_time"),
        migrations.RemoveIndex(model_name="merklenode", name="merkle_leaf_record"),
    ]
