"""What an uploaded file's content is, and whether it is what its name says (B10).

A name is only a claim: a program renamed `意见.pdf` must not become a record. `identify` reads the content
(signatures through the `filetype` library, ZIP entry names without extracting anything, text encodings) and
`mismatch` compares it with the extension. The services refuse a mismatch (`services.common.check_upload`,
code DOCUMENT_CONTENT_MISMATCH); the forms and the API call the same function to show it beside the field.
"""

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

import filetype

from decisions.rules import in_language

OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File: Office 97-2003, WPS (.wps/.et), encrypted OOXML
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or the end record of an empty archive
PDF_HEADER_WINDOW = 1024  # readers accept %PDF- anywhere in the first 1024 bytes (ISO 32000-1, Annex H)
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")  # an OOXML file with an open password is an OLE2 file


@dataclass(frozen=True)
class Kind:
    """What content is: a key the extensions are matched against, and how to name it to a user."""

    key: str
    zh: str
    en: str

    def label(self):
        return in_language(self.zh, self.en)


PDF = Kind("pdf", "PDF 文档", "a PDF document")
OFD = Kind("ofd", "OFD 版式文档", "an OFD document")
DOCX = Kind("docx", "Word 文档(.docx)", "a Word document (.docx)")
XLSX = Kind("xlsx", "Excel 工作簿(.xlsx)", "an Excel workbook (.xlsx)")
PPTX = Kind("pptx", "PowerPoint 演示文稿(.pptx)", "a PowerPoint presentation (.pptx)")
OPENDOCUMENT = Kind("odf", "OpenDocument 文件(.odt/.ods)", "an OpenDocument file (.odt/.ods)")
ZIP = Kind("zip", "ZIP 压缩包", "a ZIP archive")
DAMAGED_ZIP = Kind("damaged-zip", "已损坏的 ZIP 压缩包", "a damaged ZIP archive")
OLE2 = Kind("ole2", "Office 97-2003 或 WPS 文档", "an Office 97-2003 or WPS document")
ENCRYPTED_OFFICE = Kind("encrypted-office", "设有打开密码的 Office 文档", "a password-protected Office document")
PNG = Kind("png", "PNG 图片", "a PNG image")
JPEG = Kind("jpeg", "JPEG 图片", "a JPEG image")
TIFF = Kind("tiff", "TIFF 图片", "a TIFF image")
TEXT = Kind("text", "纯文本", "plain text")
HTML = Kind("html", "网页(HTML)", "a web page (HTML)")
EXECUTABLE = Kind("executable", "可执行文件", "an executable program")
UNKNOWN = Kind("unknown", "无法识别的二进制数据", "unrecognised binary data")

# filetype's names for what it recognises, where ours differ.
_BY_FILETYPE = {"png": PNG, "jpg": JPEG, "tif": TIFF, "exe": EXECUTABLE, "elf": EXECUTABLE}

# What each accepted extension's content must be. An extension configured in JUECE_UPLOAD_EXTENSIONS but
# missing here has no known signature and is checked by its name only.
EXPECTED = {
    "pdf": {PDF.key},
    "ofd": {OFD.key},
    "docx": {DOCX.key},
    "xlsx": {XLSX.key},
    "doc": {OLE2.key},
    "xls": {OLE2.key},
    "wps": {OLE2.key},
    "et": {OLE2.key},
    "png": {PNG.key},
    "jpg": {JPEG.key},
    "jpeg": {JPEG.key},
    "tif": {TIFF.key},
    "tiff": {TIFF.key},
    "txt": {TEXT.key},
    "csv": {TEXT.key},  # the comment ledger's import (decisions/comment_input.py)
}


def extension_of(name):
    """Return the lower-case extension of a file name without its dot ("" if it has none)."""
    return PurePath(str(name or "")).suffix.lower().lstrip(".")


def identify(content):
    """Return the Kind of `content` (bytes) judged by the content alone."""
    content = bytes(content)
    if content.startswith(OLE2_SIGNATURE):
        return ENCRYPTED_OFFICE if ENCRYPTED_PACKAGE in content else OLE2
    if b"%PDF-" in content[:PDF_HEADER_WINDOW]:
        return PDF
    if content.startswith(ZIP_SIGNATURES):
        return _zip_kind(content)
    if _is_text(content):
        head = content[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        return HTML if head.startswith((b"<!doctype html", b"<html")) else TEXT
    guessed = filetype.guess(content)
    if guessed is None:
        return UNKNOWN
    known = _BY_FILETYPE.get(guessed.extension)
    if known:
        return known
    return Kind(guessed.extension, f"{guessed.extension.upper()} 文件({guessed.mime})", f"a {guessed.mime} file")


def zip_names(content):
    """Return the entry names of a ZIP archive, reading only its central directory (nothing is inflated,
    so a ZIP bomb costs nothing here), or None if it is not a readable archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None


def _zip_kind(content):
    names = zip_names(content)
    if names is None:
        return DAMAGED_ZIP
    if any(name.lower() == "ofd.xml" for name in names):  # GB/T 33190: the entry file at the package root
        return OFD
    if "[Content_Types].xml" in names:
        for prefix, kind in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)):
            if any(name.startswith(prefix) for name in names):
                return kind
    if "mimetype" in names:
        return OPENDOCUMENT
    return ZIP


def _is_text(content):
    if b"\x00" in content:
        return False
    for encoding in ("utf-8-sig", "gb18030"):  # Chinese Windows saves text as GB18030 (GBK) by default
        try:
            content.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


@dataclass(frozen=True)
class Mismatch:
    """A file whose content is not what its extension claims."""

    extension: str
    found: Kind

    @property
    def zh(self):
        return f"文件内容与扩展名 .{self.extension} 不符(内容像是{self.found.zh})；请上传与扩展名相符的文件"

    @property
    def en(self):
        return f"The file's content does not match its extension .{self.extension} (it looks like {self.found.en})"

    def message(self):
        return in_language(self.zh, self.en)


def mismatch(name, content):
    """Return a Mismatch if `content` is not what the extension of `name` says, else None.

    An extension with no known signature (see EXPECTED) is not judged here; whether it is accepted at all
    is the caller's check (JUECE_UPLOAD_EXTENSIONS).
    """
    extension = extension_of(name)
    expected = EXPECTED.get(extension)
    if expected is None:
        return None
    found = identify(content)
    return None if found.key in expected else Mismatch(extension, found)


__all__ = ["EXPECTED", "Kind", "Mismatch", "extension_of", "identify", "mismatch", "zip_names"]
