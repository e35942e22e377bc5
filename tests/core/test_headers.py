"""Response headers (issue 8 item 5, 等保 入侵防范): a Content-Security-Policy without 'unsafe-inline' or
'unsafe-eval' on every response, error pages and the API included; Permissions-Policy, Referrer-Policy
and Cross-Origin-Opener-Policy; HSTS and the HTTPS redirect behind the TLS proxy, with
`check --deploy` clean under production settings.

The policy is real, not only a header: every page the personas reach by following links (the crawl
of tests/access/test_crawl.py), the fragments htmx swaps in and the error pages are parsed, and none
has an inline <script>, an on…= handler or a style="…" attribute, which the browser would refuse;
every template is read for them as well, so a page no crawl reaches cannot bring one back."""

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests.access.crawling import NOW, crawl, record_the_year

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
# The roles whose pages together cover the site: business pages, the record forms, the 三员's pages.
CRAWLERS = ["party_office", "branch_secretary", "member", "sys_admin", "security_admin", "audit_admin"]
CRAWL_CAP = 150


def csp_directives(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.status_code} {response.request['PATH_INFO']}"
    parts = [part.strip().split(None, 1) for part in header.split(";") if part.strip()]
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def assert_strict_csp(response) -> None:
    directives = csp_directives(response)
    where = response.request["PATH_INFO"]
    for name, value in REQUIRED.items():
        assert directives.get(name) == value, f"{where}: {name} is {directives.get(name)!r}, expected {value!r}"
    for name, value in directives.items():
        assert "unsafe-inline" not in value and "unsafe-eval" not in value, f"{where}: {name} {value}"
        assert "*" not in value.split() and "http:" not in value and "https:" not in value, f"{where}: {name} {value}"


class _InlineCode(HTMLParser):
    """What a strict CSP refuses in a page: <script> without src (a JSON data block is not run),
    on…= event-handler attributes, style="…" attributes, and <style> elements."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src") and attributes.get("type") != "application/json":
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"<style> element at line {self.getpos()[0]}")
        for name, _value in attrs:
            if name == "style" or re.fullmatch(r"on[a-z]+", name):
                self.found.append(f'<{tag} {name}="…"> at line {self.getpos()[0]}')


def inline_code(html: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


def crawl_pages(client: Client, start: str = "/", cap: int = CRAWL_CAP) -> list[tuple[str, object]]:
    """(url, response) for each page reached by following same-site links from `start` (the crawl of
    tests/access/crawling.py)."""
    pages = []
    crawl(client, start, cap, seen=lambda url, response: pages.append((url, response)))
    return pages


# ---------------------------------------------------------------- every page the crawl reaches


@pytest.fixture
def recorded(bureau, settings, tmp_path):
    """The bureau with half a year of organisational life (tests/access/test_crawl.py), so the
    meeting, ledger and decision pages have something to show."""
    settings.MEDIA_ROOT = str(tmp_path)
    with time_machine.travel(NOW, tick=False):
        record_the_year(bureau)
        yield bureau


@pytest.mark.parametrize("persona", CRAWLERS)
def test_every_crawled_page_has_the_strict_csp_and_no_inline_code(recorded, settings, persona):
    settings.DEBUG = False  # as production (django-csp leaves DEBUG's 404/500 pages alone)
    client = Client()
    client.force_login(recorded.users[persona])
    html_pages, problems = 0, []
    for url, response in crawl_pages(client):
        assert_strict_csp(response)
        assert response.headers.get("Permissions-Policy"), url
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            html_pages += 1
            problems += [f"{url}: {found}" for found in inline_code(response.content.decode())]
    print(f"\n{persona}: {html_pages} HTML pages checked")
    assert problems == []
    assert html_pages >= {"member": 2, "sys_admin": 2, "security_admin": 2, "audit_admin": 2}.get(persona, 20)


def test_pages_outside_the_crawl_have_the_csp_and_no_inline_code(recorded, settings, client_for):
    """The log-in page, a refused form (its error summary), an htmx fragment, the error pages and the
    API's JSON."""
    settings.DEBUG = False
    bureau = recorded
    anonymous = Client()
    secretary = client_for("branch_secretary")
    refused = secretary.post(reverse("orglife:meeting_create"), {"organization": bureau.branch_a.pk})
    assert refused.status_code == 200 and "data-form-errors" in refused.content.decode()
    fragment = secretary.get(reverse("orglife:meeting_expected"),
                             {"organization": bureau.branch_a.pk, "kind": "general_meeting",
                              "starts_at": "2026-06-10T09:00"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    responses = {
        "log-in": anonymous.get(reverse("access:login")),
        "refused form": refused,
        "attendance fragment": fragment,
        "404": secretary.get("/no-such-page/"),
        "404 of a record outside the scope": secretary.get(reverse("organizations:detail", args=[bureau.branch_b.pk])),
        "api": secretary.get("/api/organizations"),
    }
    assert responses["404"].status_code == 404
    for name, response in responses.items():
        assert_strict_csp(response)
        if response.get("Content-Type", "").startswith("text/html"):
            assert inline_code(response.content.decode()) == [], name


def test_the_500_page_has_the_csp_and_no_inline_code(db, settings, client_for, monkeypatch):
    settings.DEBUG = False

    def boom(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("dangjian.core.views.summary_for", boom)
    client = client_for("party_office")
    client.raise_request_exception = False
    response = client.get(reverse("home"))
    assert response.status_code == 500
    assert_strict_csp(response)
    assert inline_code(response.content.decode()) == []


def test_the_checker_finds_each_kind_of_inline_code():
    """The parser above itself: each thing a strict CSP refuses is reported, a JSON block is not."""
    html = ('<script>alert(1)</script><script src="/static/x.js"></script>'
            '<script type="application/json" id="d">{"a": 1}</script>'
            '<select onchange="this.form.submit()"></select><div style="width: 1px"></div><style>p{}</style>')
    found = inline_code(html)
    assert len(found) == 4
    assert "inline <script>" in found[0] and "onchange" in found[1] and "style" in found[2] and "<style>" in found[3]


# ---------------------------------------------------------------- every template, as written

TEMPLATE_FILES = sorted([*ROOT.glob("dangjian/templates/**/*.html"), *ROOT.glob("dangjian/*/templates/**/*.html")])
TEMPLATE_COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.S)
INLINE_IN_TEMPLATE = [
    (re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I), 'style="…" attribute'),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "on…= handler"),
]


def test_no_template_has_inline_script_handler_or_style():
    assert len(TEMPLATE_FILES) > 40
    problems = []
    for path in TEMPLATE_FILES:
        text = TEMPLATE_COMMENT.sub(lambda m: "\n" * m.group().count("\n"), path.read_text())
        for pattern, what in INLINE_IN_TEMPLATE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert problems == []


# ---------------------------------------------------------------- the other headers


def test_permissions_referrer_and_opener_policies(client_for):
    response = client_for("party_office").get(reverse("home"))
    features = dict(item.strip().split("=", 1) for item in response.headers["Permissions-Policy"].split(","))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "serial", "hid"):
        assert features.get(feature) == "()", feature
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_behind_tls_http_is_redirected_and_https_answers_hsts(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = Client()
    plain = client.get(reverse("access:login"))
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    secure = client.get(reverse("access:login"), headers={"X-Forwarded-Proto": "https"})
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


# ---------------------------------------------------------------- production settings

PRODUCTION = {
    "PATH": "/usr/bin:/bin",
    "DEBUG": "0",
    "SECRET_KEY": "k3V9-production-like-secret-key-of-sixty-characters-0123456789abcdef",
    "AUDIT_HMAC_KEY": "production-like-audit-key",
    "FIELD_ENCRYPTION_KEYS": "k202612:" + "0f" * 16,
    "FIELD_SEARCH_KEY": "a5" * 32,
    "ALLOWED_HOSTS": "dangjian.example.gov.cn",
    "BEHIND_TLS_PROXY": "1",
}


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def _settings(env: dict, *names: str) -> list[str]:
    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'dangjian.settings'; django.setup();"
            f"from django.conf import settings; print(*[repr(getattr(settings, n)) for n in {list(names)!r}], sep='|')")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split("|")


def test_check_deploy_is_clean_with_production_settings():
    result = _manage(PRODUCTION, "check", "--deploy", "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNING" not in output


def test_production_settings_turn_on_hsts_and_the_https_redirect():
    assert _settings(PRODUCTION, "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT",
                     "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE") == ["31536000", "True", "True", "True", "True"]
    # Without the TLS proxy (development), no HSTS and no redirect.
    assert _settings({**PRODUCTION, "DEBUG": "1", "BEHIND_TLS_PROXY": "0"},
                     "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT") == ["0", "False"]
    # Each is a setting the operator may change; a bad value stops start-up.
    assert _settings({**PRODUCTION, "HSTS_INCLUDE_SUBDOMAINS": "0", "HSTS_SECONDS": "600"},
                     "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_SECONDS") == ["False", "600"]
    bad = _manage({**PRODUCTION, "HSTS_SECONDS": "a year"}, "check")
    assert bad.returncode != 0 and "HSTS_SECONDS must be an integer" in bad.stderr
