"""Meetings newest first, on PostgreSQL only: `/api/meetings` and the decision register list a
scope's meetings by (starts_at, id) descending. For a city-wide reader the scope is every meeting
(238,901 at issue 11's city scale) and without this index each page sorted them all (127 ms); with
it the page reads its 51 rows off the index. Not on SQLite: without planner statistics SQLite takes
an index matching ORDER BY … LIMIT even for a branch secretary's scope, walking the whole table to
find a branch's few meetings (bench/RESULTS.md, issue 11), while the organisation index serves the
embedded default's bureau-sized databases well."""

from django.db import migrations

INDEX = "meeting_newest_first_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON orglife_meeting (starts_at DESC, id DESC)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("orglife", "0008_optimistic_locking_version")]
    operations = [migrations.RunPython(create, drop)]
