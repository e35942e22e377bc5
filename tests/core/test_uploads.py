"""Uploads (meeting attachments, the workbook import) and every file handed out: the content must be
what the extension says, the size is checked before the body is read, files are stored under random
names, downloads carry attachment/nosniff/no-store, and an attachment download is audited."""

import datetime as dt
import io
import zipfile

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.core import uploads
from dangjian.organizations.models import Organization
from dangjian.orglife import services
from dangjian.orglife.models import MeetingAttachment, MeetingKind
from dangjian.orglife.services import MeetingInput

BY = Actor.system("test")
NOW = dt.datetime(2026, 11, 30, 10, 0)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


def zipped(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def docx_bytes() -> bytes:
    import docx

    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("签到表")
    document.save(buffer)
    return buffer.getvalue()


def xlsx_bytes() -> bytes:
    import openpyxl

    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    return buffer.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")  # what a browser may claim


@pytest.fixture
def meeting(bureau, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return services.meeting_record(by=BY, data=MeetingInput(
        organization=bureau.branch_a, kind=MeetingKind.THEME_DAY, topics="学习",
        starts_at=dt.datetime(2026, 3, 6, 14, tzinfo=timezone.get_current_timezone())))


def stored_files(settings) -> list:
    return [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]


# ---------------------------------------------------------------- the check itself

@pytest.mark.parametrize(("name", "content"), [
    ("签到表.pdf", PDF), ("照片.png", PNG), ("照片.JPG", JPG), ("照片.jpeg", JPG), ("记录.docx", None),
    ("名单.xlsx", None), ("说明.txt", "会议纪要：全体党员参加。\n".encode()), ("说明.txt", "会议纪要".encode("gb18030")),
])
def test_files_whose_content_is_what_their_extension_says_are_accepted(name, content):
    content = content or (docx_bytes() if name.endswith(".docx") else xlsx_bytes())
    assert uploads.check_upload(upload(name, content)) == uploads.EXTENSIONS[name[name.rindex("."):].lower()]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("签到表.pdf", EXE, "文件内容与扩展名不符"),  # a renamed program
    ("签到表.pdf", HTML, "文件内容与扩展名不符"),  # a renamed web page
    ("照片.png", PDF, "文件内容与扩展名不符"),
    ("说明.txt", HTML, "文件内容与扩展名不符"),  # text that a browser would run
    ("说明.txt", b"abc\x00def", "文件内容与扩展名不符"),
    ("记录.docx", zipped("[Content_Types].xml", "xl/workbook.xml"), "不是有效的Word 文档"),  # no word/ part
    ("记录.docx", zipped("word/document.xml"), "不是有效的Word 文档"),  # no [Content_Types].xml
    ("名单.xlsx", zipped("[Content_Types].xml", "word/document.xml"), "不是有效的Excel 工作簿"),
    ("名单.xlsx", EXE, "文件内容与扩展名不符"),
    ("run.exe", EXE, "不支持该文件类型"),
    ("page.html", HTML, "不支持该文件类型"),
    ("空.pdf", b"", "文件是空的"),
])
def test_files_whose_content_is_not_what_their_extension_says_are_refused_in_chinese(name, content, message):
    with pytest.raises(ValidationError) as caught:
        uploads.check_upload(upload(name, content))
    assert message in caught.value.message_dict["file"][0]


def test_a_file_over_the_limit_is_refused(settings):
    settings.UPLOAD_MAX_MB = 1
    with pytest.raises(ValidationError) as caught:
        uploads.check_upload(upload("签到表.pdf", PDF + b" " * (1024 * 1024)))
    assert caught.value.message_dict["file"] == ["文件不能超过 1 MB，未上传。"]


@pytest.mark.parametrize(("name", "shown"), [
    ("../../etc/签到表.pdf", "签到表.pdf"),
    ("C:\\Users\\张三\\签到表.pdf", "签到表.pdf"),
    ("照片\u202egnp.exe.pdf", "照片gnp.exe.pdf"),  # no right-to-left override
    ("a\x00b\r\n.pdf", "ab.pdf"),
    (".签到表.pdf", "签到表.pdf"),  # not hidden
    ("...", "附件"),
    ('会议"记录"<1>.pdf', "会议_记录__1_.pdf"),
    ("长" * 300 + ".pdf", "长" * 196 + ".pdf"),
])
def test_display_names_lose_paths_control_characters_and_unsafe_characters(name, shown):
    assert uploads.display_name(name) == shown


# ---------------------------------------------------------------- the attachment page

@time_machine.travel(NOW, tick=False)
def test_a_renamed_program_is_refused_with_a_message_and_nothing_is_stored(bureau, client_for, meeting, settings):
    client = client_for("branch_secretary")
    entries = AuditEntry.objects.count()
    for content in (EXE, HTML):
        response = client.post(reverse("orglife:attachment_upload", args=[meeting.pk]),
                               {"file": upload("签到表.pdf", content)}, follow=True)
        assert "文件内容与扩展名不符" in response.content.decode()
    assert not meeting.attachments.exists()
    assert stored_files(settings) == []
    assert AuditEntry.objects.count() == entries


@time_machine.travel(NOW, tick=False)
def test_an_accepted_attachment_is_stored_under_a_random_name_and_shown_under_a_clean_one(
        bureau, client_for, meeting, settings):
    client = client_for("branch_secretary")
    client.post(reverse("orglife:attachment_upload", args=[meeting.pk]),
                {"file": upload("..\\照片\u202egnp.pdf", PDF)})
    attachment = meeting.attachments.get()
    assert attachment.name == "照片gnp.pdf"
    [stored] = stored_files(settings)
    assert stored.suffix == ".pdf" and "照片" not in str(stored) and len(stored.stem) == 32
    assert stored.read_bytes() == PDF


@time_machine.travel(NOW, tick=False)
def test_an_oversize_upload_is_refused_with_a_message_before_its_body_is_read(bureau, client_for, meeting, settings):
    settings.UPLOAD_MAX_MB = 1
    client = client_for("branch_secretary")
    url = reverse("orglife:attachment_upload", args=[meeting.pk])
    detail = reverse("orglife:meeting_detail", args=[meeting.pk])
    # The request declares 50 MB but carries a few bytes: had anything read the body, the test
    # client's payload would raise ("Cannot read more than the available bytes").
    response = client.post(url, {"file": upload("签到表.pdf", PDF)}, CONTENT_LENGTH=str(50 * 1024 * 1024),
                           HTTP_REFERER=f"http://testserver{detail}")
    assert response.status_code == 302 and response["Location"] == f"http://testserver{detail}"
    assert "文件不能超过 1 MB，未上传。" in client.get(detail).content.decode()
    assert not meeting.attachments.exists()
    # a referrer on another site is not followed
    response = client.post(url, {"file": upload("签到表.pdf", PDF)}, CONTENT_LENGTH=str(50 * 1024 * 1024),
                           HTTP_REFERER="https://evil.example/")
    assert response["Location"] == "/"


@time_machine.travel(NOW, tick=False)
def test_a_file_just_over_the_limit_inside_a_small_enough_body_is_refused_too(bureau, client_for, meeting, settings):
    settings.UPLOAD_MAX_MB = 1
    response = client_for("branch_secretary").post(
        reverse("orglife:attachment_upload", args=[meeting.pk]),
        {"file": upload("签到表.pdf", PDF + b" " * (1024 * 1024))}, follow=True)
    assert "文件不能超过 1 MB，未上传。" in response.content.decode()
    assert not meeting.attachments.exists() and stored_files(settings) == []


# ---------------------------------------------------------------- the workbook import page

def test_the_workbook_import_refuses_a_renamed_file_and_a_docx_in_chinese(bureau, client_for):
    client = client_for("party_office")
    before = Organization.objects.count()
    for content in (EXE, docx_bytes(), zipped("[Content_Types].xml", "word/document.xml")):
        response = client.post(reverse("organizations:member_import"), {"file": upload("名单.xlsx", content)})
        assert response.status_code == 200
        assert "文件内容与扩展名不符" in response.content.decode()
        assert response.context["result"] is None
    response = client.post(reverse("organizations:member_import"), {"file": upload("名单.pdf", PDF)})
    assert "不支持该文件类型，只接受：Excel 工作簿。" in response.content.decode()
    assert Organization.objects.count() == before


# ---------------------------------------------------------------- downloads

def assert_file_headers(response, filename_part: str):
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''" in disposition and filename_part in disposition  # RFC 5987, percent-encoded
    assert response["X-Content-Type-Options"] == "nosniff"
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives


@time_machine.travel(NOW, tick=False)
def test_an_attachment_is_served_as_a_download_of_its_checked_type_and_audited_once(bureau, client_for, meeting):
    from urllib.parse import quote

    MeetingAttachment.objects.all().delete()
    attachment = services.attachment_add(by=BY, meeting=meeting, upload=upload("签到表.txt", "全体到会".encode()))
    url = reverse("orglife:attachment_download", args=[meeting.pk, attachment.pk])
    client, sibling = client_for("branch_secretary"), client_for("sibling_secretary")  # log-ins are audited
    last = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()

    response = client.get(url)

    assert_file_headers(response, quote("签到表.txt"))
    assert response["Content-Type"] == "text/plain; charset=utf-8"  # not what the browser claimed
    assert b"".join(response.streaming_content) == "全体到会".encode()
    [entry] = AuditEntry.objects.filter(seq__gt=last)
    assert entry.action == "attachment.export" and entry.actor_name == "shuji_a"
    assert (entry.object_type, entry.object_id) == ("orglife.meetingattachment", str(attachment.pk))
    assert entry.note == "导出会议附件：签到表.txt"

    assert sibling.get(url).status_code == 404
    assert AuditEntry.objects.filter(seq__gt=last).count() == 1


@time_machine.travel(NOW, tick=False)
def test_every_export_carries_the_same_download_headers(bureau, client_for, meeting):
    from urllib.parse import quote

    client = client_for("party_office")
    assert_file_headers(client.get(reverse("orglife:meeting_minutes", args=[meeting.pk])), quote("会议记录"))
    assert_file_headers(client.get(reverse("orglife:ledger", args=[bureau.branch_a.pk]), {"year": 2026}),
                        quote("组织生活台账"))
    assert_file_headers(client.get(reverse("organizations:member_export")), quote("花名册"))


def test_the_file_response_helper_sets_the_headers_itself_whatever_the_middleware():
    # The security and no-store middleware add nosniff and no-store to pages too; a file response
    # must not depend on them (a view mounted elsewhere, a middleware list changed).
    from dangjian.core.downloads import file_response

    response = file_response(b"x", filename="../花名册.xlsx", content_type=uploads.KINDS["xlsx"].content_type)
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%E8%8A%B1%E5%90%8D%E5%86%8C.xlsx"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert file_response(b"x", filename="report.pdf")["Content-Disposition"] == 'attachment; filename="report.pdf"'
