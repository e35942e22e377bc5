"""The client's address behind the documented nginx: X-Forwarded-For is believed only from a proxy
listed in TRUSTED_PROXIES, read from the right, and the audit trail and the lockout agree on it."""

import pytest
from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.test import RequestFactory
from django.urls import reverse

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.core.client_ip import client_ip

PROXY = "10.0.0.5"


def _request(remote, forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "::1"]


@pytest.mark.parametrize(("remote", "forwarded", "client"), [
    # No trusted proxy configured (the default): the header is ignored whatever it says.
    ("203.0.113.9", "1.2.3.4", "203.0.113.9"),
    ("10.0.0.5", "1.2.3.4", "10.0.0.5"),
    (None, "1.2.3.4", None),
])
def test_without_trusted_proxies_the_header_is_ignored(remote, forwarded, client):
    request = _request(remote, forwarded) if remote else RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded)
    if remote is None:
        del request.META["REMOTE_ADDR"]
    assert client_ip(request) == client


@pytest.mark.parametrize(("remote", "forwarded", "client"), [
    (PROXY, "198.51.100.7", "198.51.100.7"),                        # nginx appended the client
    (PROXY, "6.6.6.6, 198.51.100.7", "198.51.100.7"),               # the client forged the left part
    (PROXY, "6.6.6.6, 198.51.100.7, 10.0.0.9", "198.51.100.7"),     # a second trusted proxy in the chain
    (PROXY, "10.0.0.8, 10.0.0.9", "10.0.0.8"),                      # a client inside the proxies' network
    (PROXY, "not-an-address, 198.51.100.7", "198.51.100.7"),
    (PROXY, "198.51.100.7, garbage", PROXY),                        # garbage after the client: only the proxy is known
    (PROXY, "", PROXY),
    (PROXY, None, PROXY),
    ("::1", "2001:db8::7", "2001:db8::7"),
    ("::ffff:10.0.0.5", "198.51.100.7", "198.51.100.7"),           # IPv4 proxy seen on an IPv6 socket
    ("203.0.113.9", "198.51.100.7", "203.0.113.9"),                 # forged header from an untrusted client
])
def test_behind_a_trusted_proxy_the_rightmost_untrusted_address_wins(behind_proxy, remote, forwarded, client):
    assert client_ip(_request(remote, forwarded)) == client


def test_forged_forwarded_for_from_an_untrusted_client_is_ignored_by_trail_and_lockout(db, behind_proxy, client):
    client.post(reverse("access:login"), {"username": "nobody", "password": "wrong"},
                REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert AuditEntry.objects.get(action="auth.login_failed").source_ip == "203.0.113.9"
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.9"]


def test_behind_the_trusted_proxy_trail_and_lockout_name_the_client(db, behind_proxy, client):
    client.post(reverse("access:login"), {"username": "nobody", "password": "wrong"},
                REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    assert AuditEntry.objects.get(action="auth.login_failed").source_ip == "198.51.100.7"
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.7"]


def test_actor_from_request_and_axes_agree(db, behind_proxy, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    request = _request(PROXY, "6.6.6.6, 198.51.100.7")
    request.user = AnonymousUser()
    assert Actor.from_request(request).ip == get_client_ip_address(request) == "198.51.100.7"


def test_a_bad_trusted_proxies_value_stops_start_up(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import dangjian.settings as module

    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/24,nginx")
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES: 'nginx'"):
        importlib.reload(module)
    monkeypatch.delenv("TRUSTED_PROXIES")
    importlib.reload(module)
