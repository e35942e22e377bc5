"""The head carries its own MAC over (seq, mac). The head of an existing trail is authenticated as
it stands (verify the chain with `audit_verify` before upgrading), and a new database starts with an
authenticated empty head, so a missing head row is itself a finding."""

from django.db import migrations, models


def authenticate_head(apps, schema_editor):
    from dangjian.audit.services import head_mac

    AuditHead = apps.get_model("audit", "AuditHead")
    head, _ = AuditHead.objects.get_or_create(id=1)
    head.head_mac = head_mac(head.seq, head.mac)
    head.save(update_fields=["head_mac"])


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]
    operations = [
        migrations.AddField(
            model_name="audithead", name="head_mac", field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(authenticate_head, migrations.RunPython.noop),
    ]
