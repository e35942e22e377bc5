import subprocess
import sys

import pytest


def _start(env):
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='dangjian.settings'; django.setup()"
    return subprocess.run([sys.executable, "-c", code], env={"PATH": "/usr/bin", **env}, capture_output=True, text=True)


@pytest.mark.parametrize(("env", "message"), [
    ({"DEBUG": "maybe"}, "DEBUG must be a boolean"),
    ({"DEBUG": "0"}, "SECRET_KEY is required"),
    ({"DEBUG": "1", "SESSION_IDLE_MINUTES": "abc"}, "SESSION_IDLE_MINUTES must be an integer"),
    ({"DEBUG": "1", "PASSWORD_MIN_LENGTH": "6"}, "PASSWORD_MIN_LENGTH must be at least 8"),
    ({"DEBUG": "1", "DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must start with postgres"),
    ({"DEBUG": "1", "CACHE_BACKEND": "redis"}, "CACHE_BACKEND must be one of local, database"),
])
def test_bad_settings_fail_loudly(env, message):
    result = _start(env)
    assert result.returncode != 0
    assert message in result.stderr


def test_sqlite_takes_its_write_lock_when_a_transaction_begins(db):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite profile only")
    # BEGIN IMMEDIATE: two app processes never both read and then fail to upgrade to a write lock.
    # (WAL itself is checked on a file database below: the in-memory test database cannot use it.)
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_file_database_uses_wal(tmp_path):
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='dangjian.settings'; django.setup();"
        "from django.db import connection; c = connection.cursor(); c.execute('PRAGMA journal_mode');"
        "print(c.fetchone()[0])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"PATH": "/usr/bin", "DEBUG": "1", "SQLITE_PATH": str(tmp_path / "x.sqlite3")})
    assert result.stdout.strip() == "wal", result.stderr


def test_wsgi_refuses_to_start_without_keys():
    code = "import dangjian.wsgi"
    result = subprocess.run([sys.executable, "-c", code], env={"PATH": "/usr/bin"}, capture_output=True, text=True,
                            cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert result.returncode != 0 and "SECRET_KEY is required" in result.stderr


def test_app_servers_may_share_one_cache_table(tmp_path):
    """CACHE_BACKEND=database: results kept until the next write are computed once for every app
    server (core.datacache), in a table `createcachetable` makes."""
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='dangjian.settings'; django.setup();"
        "from django.core.management import call_command; call_command('createcachetable');"
        "from django.core.cache import caches; c = caches['default']; c.set('k', [1, 2], 60); print(type(c).__name__, c.get('k'))"
    )
    env = {"PATH": "/usr/bin", "DEBUG": "1", "CACHE_BACKEND": "database", "SQLITE_PATH": str(tmp_path / "db.sqlite3")}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.stdout.split() == ["DatabaseCache", "[1,", "2]"], result.stderr
