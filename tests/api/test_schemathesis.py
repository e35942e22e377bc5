"""The whole API fuzzed from its own OpenAPI schema (schemathesis, every check on): no answer is a
500, every status, content type, header and body is the one the schema documents, the credentials
are not ignored, malformed input is refused and well-formed input is not refused for its shape.

Calls go through the Django WSGI application as the party office's bearer token (the widest
business scope), over the bureau of tests/conftest.py with one recorded meeting.

One setting differs from schemathesis' defaults, with its reason: `positive_data_acceptance` also
accepts 422. The schema states each field's shape; the services' rules across fields and records
cannot be put into it (an ID number's check digit, a full-membership date after the joining date, a
paging cursor the API gave out, votes no more than those present), and a request that breaks one of
them is answered 422 with the field and a Chinese message, which is what the schema documents."""

import datetime as dt

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings

from dangjian.api.tokens import api_token_create
from dangjian.audit.services import Actor
from dangjian.orglife.models import MeetingKind
from dangjian.orglife.services import MeetingInput, meeting_record
from dangjian.wsgi import application

CONFIG = {
    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422"]}},
}


# Loaded when the module is collected (the schema view reads no database). Not through
# `schemathesis.pytest.from_fixture`: its lazy loader sets `node._nodeid`, which pytest 9 removed.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application,
                                        config=schemathesis.config.SchemathesisConfig.from_dict(CONFIG))


@pytest.fixture(autouse=True)
def connection_kept_between_requests():
    """As Django's test client does: the WSGI handler's end-of-request hook would close the test's
    database connection (it is inside the test's transaction), and the next request would then fail
    for the previous one's sake. Kept open, each request answers for itself."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(bureau) -> str:
    meeting_record(by=Actor.system("test"), data=MeetingInput(
        organization=bureau.branch_a, kind=MeetingKind.THEME_DAY, topics="学习",
        starts_at=dt.datetime(2025, 3, 6, 14, tzinfo=timezone.get_current_timezone())))
    _, secret = api_token_create(by=Actor.system("test"), user=bureau.users["party_office"], name="模糊测试")
    return secret


@schema.parametrize()
@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_every_operation_answers_as_its_schema_says(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
