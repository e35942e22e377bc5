"""The demo bureau, built once for all the demo tests (it takes seconds) inside an outer
transaction that is rolled back after the last of them; each test runs in its own savepoint on top.

Package scope, not session scope: the fixture ends when the tests of this package end, so no other
test sees the demo's rows. Under xdist the whole package goes to one worker (see
`pytest_xdist_make_scheduler` in tests/conftest.py), which builds the demo once per run while the
other worker runs the rest of the suite."""

from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import override_settings

from dangjian.audit.models import AuditEntry
from dangjian.demo.runner import DemoResult, build_demo, demo_counts, demo_exists


@dataclass
class Demo:
    first: DemoResult  # the build
    second: DemoResult  # building again, which must change nothing
    counts_after_second: dict
    audit_entries_after_first: int
    audit_entries_after_second: int


@pytest.fixture(scope="package")
def demo(django_db_setup, django_db_blocker) -> Demo:
    # A fast hasher: the ten log-ins would otherwise spend most of the build hashing passwords.
    with django_db_blocker.unblock(), override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    ), transaction.atomic():
        first = build_demo()
        entries_first = AuditEntry.objects.count()
        second = build_demo()
        yield Demo(first, second, demo_counts(), entries_first, AuditEntry.objects.count())
        transaction.set_rollback(True)
    with django_db_blocker.unblock():
        assert not demo_exists(), "the demo's rows outlived the demo tests"
