from django.db import migrations, models


class Migration(migrations.Migration):
    """A previewed upload is kept encrypted (it holds full ID numbers). Pending previews are
    transient, so the plain column is dropped rather than converted: an upload waiting at the
    moment of the upgrade is uploaded again."""

    dependencies = [
        ("organizations", "0004_member_encrypted_numbers"),
    ]

    operations = [
        migrations.RemoveField(model_name="pendingimport", name="content"),
        migrations.AddField(model_name="pendingimport", name="sealed_content", field=models.TextField(default=""),
                            preserve_default=False),
    ]
