"""Uploads are judged by their content, not only their name (B10): a program renamed 意见.pdf, a ZIP renamed .docx
or a web page saved as .doc is refused by the services (DOCUMENT_CONTENT_MISMATCH) and shown at the form's field,
naming the extension claimed and what the content looks like."""

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image

from catalog.models import CatalogueState
from decisions import uploads
from decisions.models import Decision, Document, DocumentType, Role, Stage
from decisions.rules import ProcedureRefused
from decisions.services import documents
from decisions.services.common import Upload
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import pdf_bytes
from tests.api.test_api import api
from tests.catalog.conftest import Kit

pytestmark = pytest.mark.django_db

PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48  # a Windows program's header
OLE2 = uploads.OLE2_SIGNATURE + b"\x00" * 504  # a Compound File header, as Word 97-2003, Excel and WPS write it


def zipped(*names):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def image(fmt):
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format=fmt)
    return buffer.getvalue()


def workbook():
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    return buffer.getvalue()


GENUINE = {
    "意见.pdf": pdf_bytes("opinion"),
    "报告.docx": zipped("[Content_Types].xml", "_rels/.rels", "word/document.xml"),
    "清单.xlsx": workbook(),
    "公文.ofd": zipped("OFD.xml", "Doc_0/Document.xml"),
    "旧稿.doc": OLE2,
    "旧表.xls": OLE2,
    "文稿.wps": OLE2,
    "表格.et": OLE2,
    "照片.png": image("PNG"),
    "照片.jpg": image("JPEG"),
    "照片.jpeg": image("JPEG"),
    "扫描件.tif": image("TIFF"),
    "扫描件.tiff": image("TIFF"),
    "说明.txt": "听证会说明：参加人员名单另附。".encode(),
    "说明(GBK).txt": "听证会说明：参加人员名单另附。".encode("gb18030"),
    "台账.csv": "序号,意见\n1,同意\n".encode("gb18030"),
}


@pytest.mark.parametrize("name", GENUINE)
def test_a_file_whose_content_is_what_its_name_says_is_accepted(name):
    assert uploads.mismatch(name, GENUINE[name]) is None


@pytest.mark.parametrize(
    ("name", "content", "looks_like"),
    [
        ("意见.pdf", PROGRAM, "可执行文件"),
        ("意见.pdf", GENUINE["报告.docx"], "Word 文档(.docx)"),
        ("报告.docx", zipped("scan.png", "readme.txt"), "ZIP 压缩包"),
        ("报告.docx", GENUINE["清单.xlsx"], "Excel 工作簿(.xlsx)"),
        ("报告.docx", b"PK\x03\x04 truncated", "已损坏的 ZIP 压缩包"),
        ("公文.ofd", GENUINE["报告.docx"], "Word 文档(.docx)"),
        ("旧稿.doc", b"<!DOCTYPE html><html><body>saved from a web page</body></html>", "网页(HTML)"),
        ("旧稿.doc", GENUINE["报告.docx"], "Word 文档(.docx)"),
        ("照片.png", GENUINE["照片.jpg"], "JPEG 图片"),
        ("照片.jpg", "其实是文字".encode(), "纯文本"),
        ("说明.txt", PROGRAM, "可执行文件"),
        ("说明.txt", b"text\x00with a NUL byte", "无法识别的二进制数据"),
        ("台账.csv", GENUINE["清单.xlsx"], "Excel 工作簿(.xlsx)"),
    ],
)
def test_a_file_whose_content_is_not_what_its_name_says_is_refused_naming_both(name, content, looks_like):
    found = uploads.mismatch(name, content)
    assert found is not None
    extension = name.rsplit(".", 1)[1]
    assert f"扩展名 .{extension} 不符" in found.zh and f"内容像是{looks_like}" in found.zh
    assert f"extension .{extension}" in found.en
    with translation.override("en"):
        assert found.message() == found.en


def test_an_encrypted_office_file_is_named_as_such():
    encrypted = uploads.OLE2_SIGNATURE + b"\x00" * 100 + "EncryptedPackage".encode("utf-16-le")
    assert "设有打开密码" in uploads.mismatch("报告.docx", encrypted).zh


def test_zip_contents_are_judged_by_entry_names_alone(monkeypatch):
    """A ZIP bomb costs nothing: no entry is ever opened, only the central directory is read."""

    def no_inflating(*args, **kwargs):
        raise AssertionError("an entry was opened")

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<x/>")
        archive.writestr("word/document.xml", b"\x00" * (20 * 2**20))  # 20 MB of zeros, a few KB compressed
    assert len(buffer.getvalue()) < 100_000
    monkeypatch.setattr(zipfile.ZipFile, "open", no_inflating)
    assert uploads.identify(buffer.getvalue()) == uploads.DOCX


def test_an_extension_without_a_known_signature_is_left_to_the_extension_list():
    assert uploads.mismatch("notes.md", PROGRAM) is None


# -- the services refuse, the forms and the API show it at the field ----------------------------------------------


@pytest.fixture
def consulting(open_cast):
    return walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))


def test_the_service_refuses_a_disguised_file_and_stores_nothing(open_cast, consulting):
    before = Document.objects.count()
    disguised = Upload(doc_type=DocumentType.OTHER, name="座谈会记录.pdf", content=PROGRAM, title="座谈会记录")
    with pytest.raises(ProcedureRefused) as refused:
        documents.upload(open_cast[Role.UNDERTAKING_LEAD], consulting, Stage.PP, disguised)
    (failure,) = refused.value.failures
    assert failure.code == "DOCUMENT_CONTENT_MISMATCH" and failure.rule.article == "B10"
    assert "文件内容与扩展名 .pdf 不符(内容像是可执行文件)" in failure.rule.zh
    assert Document.objects.count() == before
    assert not list(Path(settings.MEDIA_ROOT).rglob("座谈会记录*"))


def test_a_form_shows_the_mismatch_at_its_field_and_nothing_happens(client, cast):
    from catalog import walkthrough as catalogue_walk

    decision = walk.propose(cast)
    catalogue_walk.publish_catalogue(cast, decisions=[decision])
    client.force_login(cast[Role.GOV_OFFICE])
    data = {
        "lead_unit": cast.lead_unit.pk,
        "co_units": [cast.co_units[0].pk],
        "start_decision": SimpleUploadedFile("启动决定.pdf", pdf_bytes("start"), content_type="application/pdf"),
        "study_opinion": SimpleUploadedFile("研究论证意见.pdf", PROGRAM, content_type="application/pdf"),
    }
    response = client.post(reverse("decisions:act", args=[decision.reference, "initiate"]), data)
    assert response.status_code == 200
    errors = str(response.context["form"].errors["study_opinion"])
    assert "文件内容与扩展名 .pdf 不符" in errors and "可执行文件" in errors
    assert "start_decision" not in response.context["form"].errors
    assert Decision.objects.get(pk=decision.pk).state == "LISTED"


def test_the_api_answers_a_disguised_upload_with_a_field_error(open_cast, consulting):
    disguised = io.BytesIO(zipped("a.txt"))
    disguised.name = "座谈会记录.docx"
    response = api(open_cast[Role.UNDERTAKING_LEAD]).post(
        f"/api/v1/decisions/{consulting.reference}/documents/",
        {"stage": "PP", "doc_type": "OTHER", "title": "座谈会记录", "file": disguised},
        format="multipart",
    )
    assert response.status_code == 400
    assert "ZIP" in str(response.json()["errors"]["file"]) and ".docx" in str(response.json()["errors"]["file"])


def test_a_catalogue_form_refuses_a_disguised_file_before_the_service(client, cast):
    kit = Kit(cast)
    catalogue = kit.open()
    kit.add(catalogue)
    client.force_login(cast[Role.GOV_OFFICE])
    disguised = SimpleUploadedFile(
        "目录草案.pdf", b"<html><body>not a pdf</body></html>", content_type="application/pdf"
    )
    response = client.post(reverse("catalog:act", args=[catalogue.pk, "compile"]), {"document": disguised})
    assert "文件内容与扩展名 .pdf 不符" in response.content.decode()
    catalogue.refresh_from_db()
    assert catalogue.state == CatalogueState.COLLECTING
