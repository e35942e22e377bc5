"""ID numbers and phones encrypted at rest; the ID number's search hash takes over its uniqueness.

Steps: add the hash column (nullable while it fills); make both columns plain text without the
unique constraint (tokens are longer than 18 characters and never equal); encrypt every row and
compute its hash with the configured keys; then make the columns the encrypted fields and the hash
unique and required. Reversible: going back decrypts every row (the keys must still be there) and
restores `id_number` as a unique 18-character column."""

from django.db import migrations, models

import dangjian.core.fields

BATCH = 1000


def _rows(Member, fields):
    return Member.objects.order_by("pk").only("pk", *fields).iterator(chunk_size=BATCH)


def encrypt_rows(apps, schema_editor):
    from dangjian.core import crypto

    Member = apps.get_model("organizations", "Member")
    provider, batch = crypto.provider(), []
    for member in _rows(Member, ["id_number", "phone"]):
        member.id_number_hash = crypto.search_hash(member.id_number, kind="id_number")
        member.id_number = provider.encrypt(member.id_number, context="organizations.member.id_number")
        if member.phone:
            member.phone = provider.encrypt(member.phone, context="organizations.member.phone")
        batch.append(member)
        if len(batch) == BATCH:
            Member.objects.bulk_update(batch, ["id_number", "id_number_hash", "phone"])
            batch = []
    Member.objects.bulk_update(batch, ["id_number", "id_number_hash", "phone"])


def decrypt_rows(apps, schema_editor):
    from dangjian.core import crypto

    Member = apps.get_model("organizations", "Member")
    provider, batch = crypto.provider(), []
    for member in _rows(Member, ["id_number", "phone"]):
        member.id_number = provider.decrypt(member.id_number, context="organizations.member.id_number")
        if member.phone:
            member.phone = provider.decrypt(member.phone, context="organizations.member.phone")
        member.id_number_hash = None
        batch.append(member)
        if len(batch) == BATCH:
            Member.objects.bulk_update(batch, ["id_number", "id_number_hash", "phone"])
            batch = []
    Member.objects.bulk_update(batch, ["id_number", "id_number_hash", "phone"])


class Migration(migrations.Migration):

    dependencies = [
        ("organizations", "0003_pending_import"),
    ]

    operations = [
        migrations.AddField(
            model_name="member",
            name="id_number_hash",
            field=models.CharField(max_length=64, null=True, editable=False, verbose_name="身份证号检索散列"),
        ),
        migrations.AlterField(
            model_name="member",
            name="id_number",
            field=models.TextField(verbose_name="身份证号"),
        ),
        migrations.AlterField(
            model_name="member",
            name="phone",
            field=models.TextField(blank=True, verbose_name="联系电话"),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows),
        migrations.AlterField(
            model_name="member",
            name="id_number",
            field=dangjian.core.fields.EncryptedTextField(verbose_name="身份证号"),
        ),
        migrations.AlterField(
            model_name="member",
            name="phone",
            field=dangjian.core.fields.EncryptedTextField(blank=True, verbose_name="联系电话"),
        ),
        migrations.AlterField(
            model_name="member",
            name="id_number_hash",
            field=dangjian.core.fields.SearchHashField(kind="id_number", source="id_number", unique=True,
                                                       verbose_name="身份证号检索散列"),
        ),
    ]
