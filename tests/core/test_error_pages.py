"""The error pages as production shows them (DEBUG off): Chinese, inside the site's navigation, with a
way back; the 500 page without a request context or a database; the API's errors stay JSON."""

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import get_resolver, reverse

from dangjian.access import policy
from dangjian.access.guards import NotYours


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False


def _html(response) -> str:
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


def _boom(*args, **kwargs):
    raise RuntimeError("a bug")


def test_unknown_page_answers_the_chinese_404_inside_the_navigation(client_for):
    response = client_for("party_office").get("/no-such-page/")
    html = _html(response)
    assert response.status_code == 404
    assert "页面不存在，或不在您的权限范围内" in html and "/no-such-page/" in html
    assert f'href="{reverse("organizations:tree")}"' in html  # the site's navigation, as the user's role allows
    assert f'href="{reverse("home")}"' in html and "返回首页" in html
    assert "Not Found" not in html


def test_a_record_outside_the_scope_answers_the_same_404_and_names_nothing(bureau, client_for):
    response = client_for("branch_secretary").get(reverse("organizations:detail", args=[bureau.branch_b.pk]))
    html = _html(response)
    assert response.status_code == 404
    assert "页面不存在，或不在您的权限范围内" in html
    assert bureau.branch_b.name not in html


def test_the_way_back_is_the_page_the_reader_came_from_on_this_site(client_for):
    client = client_for("leader")
    came_from = client.get("/no-such-page/", HTTP_REFERER="http://testserver/orglife/?year=2025")
    assert 'href="/orglife/?year=2025"' in _html(came_from) and "返回上一页" in _html(came_from)
    elsewhere = client.get("/no-such-page/", HTTP_REFERER="https://evil.example/orglife/")
    assert "返回上一页" not in _html(elsewhere) and "evil.example" not in _html(elsewhere)


def test_anonymous_visitor_gets_the_404_with_a_way_to_log_in(db):
    html = _html(Client().get("/no-such-page/"))
    assert "页面不存在" in html and f'href="{reverse("access:login")}"' in html


def test_a_refusal_answers_the_chinese_403_with_its_reason(client_for, monkeypatch):
    def refuse(user, today, **kwargs):
        raise NotYours("您无权记录“第二党支部”的会议。")

    monkeypatch.setattr("dangjian.core.views.summary_for", refuse)
    response = client_for("branch_secretary").get(reverse("home"))
    html = _html(response)
    assert response.status_code == 403
    assert "您无权进行此操作" in html and "您无权记录“第二党支部”的会议。" in html
    assert "返回首页" in html and "403 Forbidden" not in html


def test_a_bare_permission_denied_answers_the_403_without_a_reason(client_for, monkeypatch):
    def refuse(user, today, **kwargs):
        raise PermissionDenied

    monkeypatch.setattr("dangjian.core.views.summary_for", refuse)
    response = client_for("leader").get(reverse("home"))
    assert response.status_code == 403 and "您无权进行此操作" in _html(response)


def test_a_foreign_host_answers_the_chinese_400(client_for):
    response = client_for("party_office").get(reverse("home"), HTTP_HOST="evil.example")
    html = _html(response)
    assert response.status_code == 400
    assert "请求有误，无法处理" in html and "Bad Request" not in html


def test_a_stale_form_answers_the_chinese_csrf_page(bureau):
    client = Client(enforce_csrf_checks=True)
    client.force_login(bureau.users["party_office"])
    response = client.post(reverse("organizations:create"), {"name": "新支部"})
    html = _html(response)
    assert response.status_code == 403
    assert "页面已过期，请刷新后重新提交" in html and "CSRF verification failed" not in html
    assert f'href="{reverse("organizations:tree")}"' in html and "返回首页" in html  # inside the navigation


def test_a_crash_answers_the_chinese_500(client_for, monkeypatch):
    monkeypatch.setattr("dangjian.core.views.summary_for", _boom)
    client = client_for("party_office")
    client.raise_request_exception = False
    response = client.get(reverse("home"))
    html = _html(response)
    assert response.status_code == 500
    assert "系统出错了" in html and 'href="/"' in html and "Server Error" not in html


def test_the_500_page_needs_no_request_context_and_no_database():
    """No `db` fixture: pytest-django refuses any query, as a database that is down would. The request
    carries a logged-in user, so a context processor that ran would ask for their grants."""
    from dangjian.access.models import User

    request = RequestFactory().get("/organizations/")
    request.user = User(pk=1, username="dangban", is_active=True)
    response = get_resolver().resolve_error_handler(500)(request)
    assert response.status_code == 500
    assert "系统出错了" in _html(response) and "党建工作管理平台" in _html(response)


# ---------------------------------------------------------------- the API stays JSON

def test_unknown_api_address_answers_json_404(client_for):
    response = client_for("party_office").get("/api/no-such-endpoint")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"detail": "未找到该记录，或它不在您的权限范围内。", "errors": {}}


def test_api_record_outside_scope_still_answers_the_apis_own_json_404(bureau, client_for):
    response = client_for("branch_secretary").get(f"/api/organizations/{bureau.branch_b.pk}")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["detail"] == "未找到该记录，或它不在您的权限范围内。"


def test_api_crash_answers_json_500(bureau, client_for, monkeypatch):
    monkeypatch.setattr(policy, "get_organization", _boom)
    client = client_for("party_office")
    client.raise_request_exception = False
    response = client.get(f"/api/organizations/{bureau.branch_a.pk}")
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert "服务器内部错误" in json.loads(response.content)["detail"]
