"""Members get a pinyin sort key (collation.name_key), filled here for the rows that exist; the
roster's indexes move from (name, id) to (name_key, id)."""

from django.db import migrations, models


def fill(apps, schema_editor):
    from dangjian.organizations.collation import fill_name_keys

    fill_name_keys(apps.get_model("organizations", "Member").objects.all())


class Migration(migrations.Migration):

    dependencies = [
        ('organizations', '0001_initial'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='member',
            name='member_org_list_idx',
        ),
        migrations.RemoveIndex(
            model_name='member',
            name='member_name_idx',
        ),
        migrations.AddField(
            model_name='member',
            name='name_key',
            field=models.CharField(blank=True, editable=False, max_length=100, verbose_name='姓名排序键'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='member',
            index=models.Index(fields=['organization', 'status', 'name_key', 'id'], name='member_org_list_idx'),
        ),
        migrations.AddIndex(
            model_name='member',
            index=models.Index(fields=['name_key', 'id'], name='member_name_key_idx'),
        ),
    ]
