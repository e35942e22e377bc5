"""The PostgreSQL-only index that serves meetings newest first (migration 0009; issue 11)."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_meetings_newest_first_have_an_index_on_postgresql_only():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'meeting_newest_first_idx'")
            (definition,) = cursor.fetchone()
            assert "(starts_at DESC, id DESC)" in definition
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'meeting_newest_first_idx'")
            assert cursor.fetchone() is None
