"""Make the audit table append-only in the database itself: UPDATE and DELETE (and TRUNCATE on
PostgreSQL) raise. The ORM has no path that edits an entry either; these triggers stop a stray
script or a manual statement. Someone who can drop a trigger can still edit a row: the HMAC chain
is what makes that visible (audit_verify)."""

from django.db import migrations

from dangjian.audit.triggers import create_triggers, drop_triggers


def forwards(apps, schema_editor):
    create_triggers(schema_editor.connection)


def backwards(apps, schema_editor):
    drop_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
