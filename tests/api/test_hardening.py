"""The API's answers to bodies it will not read (too large, not JSON), and Idempotency-Key on POST:
a retry gives back the first answer and makes no second record; the same key with another body is
refused; keys expire."""

import datetime as dt
import json

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from dangjian.api.models import IdempotencyKey
from dangjian.api.tokens import api_token_create
from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.organizations.models import Member
from tests.factories import valid_id_number


@pytest.fixture
def client(bureau) -> Client:
    _, secret = api_token_create(by=Actor.system("test"), user=bureau.users["party_office"], name="同步")
    return Client(headers={"Authorization": f"Bearer {secret}"})


def new_member(bureau, **fields) -> dict:
    return {"organization": bureau.branch_a.pk, "name": "王五", "gender": "male", "birth_date": "1985-06-15",
            "id_number": valid_id_number(), "joined_on": "2010-07-01", "full_on": "2011-07-01",
            "category": "full", **fields}


def post(client, body, *, key=None, path="/api/members", **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(path, data=json.dumps(body, ensure_ascii=False), content_type="application/json",
                       **headers, **extra)


def written() -> tuple[int, int]:
    return Member.objects.count(), AuditEntry.objects.count()


# ---------------------------------------------------------------- bodies

def test_a_body_over_the_limit_answers_413_json_before_it_is_read(bureau, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = written()
    # Declared larger than it is: had the body been read, the test client's payload would raise.
    response = client.post("/api/members", data=json.dumps(new_member(bureau)), content_type="application/json",
                           CONTENT_LENGTH="5000000")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "请求体过大（不能超过 0.000953674 MB），未处理。", "errors": {}}
    assert written() == before


def test_a_body_over_the_upload_limit_answers_413_json_from_the_middleware(bureau, client, settings):
    settings.UPLOAD_MAX_MB = 1
    response = client.post("/api/members", data="{}", content_type="application/json",
                           CONTENT_LENGTH=str(10 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["detail"] == "文件不能超过 1 MB，未上传。"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_body_that_is_not_sent_as_json_answers_415_json(bureau, client, content_type):
    before = written()
    response = client.post("/api/members", data=json.dumps(new_member(bureau)), content_type=content_type)
    assert response.status_code == 415
    assert response.json() == {"detail": "请求体须为 JSON（Content-Type: application/json）。", "errors": {}}
    assert written() == before


def test_json_with_a_charset_or_a_json_suffix_is_json(bureau, client):
    response = client.post("/api/members", data=json.dumps(new_member(bureau)),
                           content_type="application/json; charset=utf-8")
    assert response.status_code == 201, response.content
    response = client.post("/api/members", data=json.dumps(new_member(bureau, name="赵六")),
                           content_type="application/merge-patch+json")
    assert response.status_code == 201, response.content


def test_malformed_json_stays_400_json(bureau, client):
    response = client.post("/api/members", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "请求体不是有效的 JSON。", "errors": {}}


# ---------------------------------------------------------------- Idempotency-Key

def test_a_retry_with_the_same_key_gives_back_the_first_answer_and_makes_no_second_member(bureau, client):
    body = new_member(bureau)
    first = post(client, body, key="3f6c1e0a-7d1b-4a53-9a55-2f1f0c7a9b10")
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    after_first = written()

    again = post(client, body, key="3f6c1e0a-7d1b-4a53-9a55-2f1f0c7a9b10")

    assert again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert again["Content-Type"].startswith("application/json")
    assert written() == after_first


def test_the_same_key_with_another_body_is_refused_in_chinese_and_changes_nothing(bureau, client):
    assert post(client, new_member(bureau), key="k-1").status_code == 201
    before = written()
    response = post(client, new_member(bureau, name="赵六"), key="k-1")
    assert response.status_code == 422
    assert "已用于内容不同的另一个请求" in response.json()["detail"]
    assert written() == before
    # ... and on another path too
    assert post(client, new_member(bureau), key="k-1", path=f"/api/members/{bureau.member_b.pk}/transfer"
                ).status_code == 422


def test_keys_belong_to_their_user(bureau, client):
    body = new_member(bureau)
    assert post(client, body, key="shared").status_code == 201
    _, secret = api_token_create(by=Actor.system("test"), user=bureau.users["branch_secretary"], name="同步")
    other = Client(headers={"Authorization": f"Bearer {secret}"})
    response = post(other, new_member(bureau), key="shared")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response


def test_a_refused_request_frees_its_key_for_the_corrected_retry(bureau, client):
    bad = new_member(bureau, organization=bureau.root.pk + 10_000)  # no such organisation
    assert post(client, bad, key="k-2").status_code == 404
    assert not IdempotencyKey.objects.exists()
    assert post(client, new_member(bureau), key="k-2").status_code == 201


def test_a_worker_killed_after_saving_leaves_neither_the_record_nor_the_key(bureau, client, monkeypatch):
    # The fault drill's case: the record is saved, then the worker dies before the answer is kept.
    from django.db.models.query import QuerySet

    update = QuerySet.update

    def killed(queryset, **values):
        if queryset.model is IdempotencyKey:
            raise KeyboardInterrupt  # not an Exception: nothing in Django or ninja catches it
        return update(queryset, **values)

    before = written()
    body = new_member(bureau)
    monkeypatch.setattr(QuerySet, "update", killed)
    with pytest.raises(KeyboardInterrupt):
        post(client, body, key="k-killed")
    monkeypatch.undo()
    assert written() == before and not IdempotencyKey.objects.exists()
    retry = post(client, body, key="k-killed")
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry
    assert post(client, body, key="k-killed")["Idempotent-Replayed"] == "true"


def test_a_key_still_in_use_answers_409(bureau, client):
    body = new_member(bureau)
    first = post(client, body, key="k-3")
    IdempotencyKey.objects.update(status=None)  # as if the first request were still running
    before = written()
    response = post(client, body, key="k-3")
    assert response.status_code == 409 and "仍在处理中" in response.json()["detail"]
    assert written() == before and first.status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "含中文"])
def test_a_malformed_key_is_refused(bureau, client, key):
    before = written()
    response = post(client, new_member(bureau), key=key)
    assert response.status_code == 422 and "Idempotency-Key" in response.json()["errors"]
    assert written() == before


def test_without_a_key_every_post_runs(bureau, client):
    body = new_member(bureau)
    assert post(client, body).status_code == 201
    body["id_number"] = valid_id_number()
    assert post(client, body).status_code == 201
    assert not IdempotencyKey.objects.exists()


def test_keys_expire_after_the_ttl(bureau, client):
    body = new_member(bureau)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert post(client, body, key="k-4").status_code == 201
    with time_machine.travel(start + dt.timedelta(hours=23, minutes=59), tick=False):
        assert post(client, body, key="k-4")["Idempotent-Replayed"] == "true"
    with time_machine.travel(start + dt.timedelta(hours=24, minutes=1), tick=False):
        # expired: the key is new again, so the request runs (and the service refuses the same ID number)
        response = post(client, body, key="k-4")
        assert "Idempotent-Replayed" not in response and response.status_code == 422


def test_the_purge_command_deletes_expired_keys_only(bureau, client):
    start = timezone.now()
    with time_machine.travel(start - dt.timedelta(hours=25), tick=False):
        assert post(client, new_member(bureau), key="old").status_code == 201
    with time_machine.travel(start, tick=False):
        assert post(client, {**new_member(bureau), "organization": 0}, key="bad").status_code == 422
        IdempotencyKey.objects.create(user=bureau.users["party_office"], key="new", fingerprint="x",
                                      created_at=start)
        call_command("purge_idempotency_keys")
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_the_schema_documents_the_header_and_every_error_status(bureau, client):
    schema = client.get("/api/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "422"} <= codes, (method, path)
            headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            if method in ("post", "put", "patch"):
                assert {"400", "404", "409", "413", "415"} <= codes, (method, path)
            assert headers == (["Idempotency-Key"] if method == "post" else []), (method, path)
            for code, answer in operation["responses"].items():
                if code.startswith("4"):
                    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
