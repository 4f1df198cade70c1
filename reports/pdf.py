"""PDF dossiers: HTML → WeasyPrint (PDF/A-3b, serif CJK) → pikepdf (pages appended, pages numbered).

Page numbers, the decision's identifier and the 草稿 watermark are not drawn by WeasyPrint but
stamped afterwards on every page, uploaded pages included, as separate content streams marked as
pagination artifacts. Assembling an archive dossier takes the stamps of its parts off and stamps
the whole once, so that the assembled document has one numbering (第 N 页 共 M 页).
"""

import functools
import io
import re
from dataclasses import dataclass

import pikepdf
from django.template.loader import render_to_string

from reports.fonts import SANS_FAMILIES, SERIF_FAMILIES, require_cjk_font

PDF_VARIANT = "pdf/a-3b"
STAMP_FONT = pikepdf.Name("/JueceStamp")
STAMP_KEY = pikepdf.Name("/JueceStamp")  # page key: the stamp streams, so that they can be taken off
MM = 72 / 25.4


@dataclass
class Attached:
    """A file carried inside the PDF (PDF/A-3 associated file)."""

    name: str
    content: bytes
    description: str = ""
    relationship: str = "Source"


@dataclass
class Rendered:
    """A finished PDF and what the dossier record keeps of it."""

    content: bytes
    pages: int


def font_css():
    """Return the font stacks of every dossier: serif CJK body, sans CJK headings."""
    serif = ", ".join(f"'{name}'" for name in SERIF_FAMILIES)
    sans = ", ".join(f"'{name}'" for name in SANS_FAMILIES)
    return {"serif": f"{serif}, serif", "sans": f"{sans}, sans-serif"}


def render_template(template, context, *, attachments=()):
    """Render a dossier template to PDF/A-3b bytes with `attachments` embedded."""
    html = render_to_string(template, {**context, "fonts": font_css()})
    return render_html(html, attachments=attachments)


def render_html(html, *, attachments=()):
    require_cjk_font()
    from weasyprint import HTML, Attachment

    files = [
        Attachment(
            file_obj=io.BytesIO(a.content),
            name=a.name,
            description=a.description or a.name,
            relationship=a.relationship,
        )
        for a in attachments
    ]
    return HTML(string=html, base_url=None).write_pdf(
        pdf_variant=PDF_VARIANT, attachments=files, uncompressed_pdf=False
    )


# -- appending uploaded PDFs -------------------------------------------------------------------------


def open_pdf(content):
    """Return `content` opened with pikepdf, or None when it is not a readable, unencrypted PDF."""
    try:
        pdf = pikepdf.open(io.BytesIO(content))
    except (pikepdf.PdfError, pikepdf.PasswordError, ValueError):
        return None
    if pdf.is_encrypted or len(pdf.pages) == 0:
        return None
    return pdf


def fonts_embedded(pdf):
    """Return True if every font the pages use is embedded (PDF/A: a page may only be bound in if so)."""
    seen = set()

    def embedded(resources):
        for font in (resources.get("/Font") or {}).values():
            if font.objgen in seen:
                continue
            seen.add(font.objgen)
            if font.get("/Subtype") == "/Type3":
                continue
            descriptor = (font.DescendantFonts[0] if "/DescendantFonts" in font else font).get("/FontDescriptor")
            if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                return False
        for xobject in (resources.get("/XObject") or {}).values():
            if xobject.get("/Subtype") == "/Form" and "/Resources" in xobject and xobject.objgen not in seen:
                seen.add(xobject.objgen)
                if not embedded(xobject.Resources):
                    return False
        return True

    return all(embedded(page.obj.get("/Resources") or pikepdf.Dictionary()) for page in pdf.pages)


def append_parts(base, parts):
    """Append each (title, pikepdf.Pdf) part to `base`, with a bookmark; return (title, first, count) rows."""
    rows = []
    with base.open_outline() as outline:
        for title, part in parts:
            first = len(base.pages)
            base.pages.extend(part.pages)
            rows.append((title, first + 1, len(part.pages)))
            outline.root.append(pikepdf.OutlineItem(title, first))
    return rows


# -- stamping ----------------------------------------------------------------------------------------


@dataclass
class StampFont:
    """A small embedded CJK font and the glyph code and width of each character it holds."""

    pdf_bytes: bytes
    codes: dict  # character → 2-byte code
    widths: dict  # character → advance in 1/1000 em

    def encode(self, text):
        return b"".join(self.codes[ch] for ch in text if ch in self.codes)

    def width(self, text, size):
        advance = sum(SPACE if ch == " " else self.widths.get(ch, 1000) for ch in text if ch == " " or ch in self.codes)
        return advance * size / 1000

    def show(self, text):
        """Return a TJ array for `text`: glyph runs, with spaces as shifts (a subset may lack the space glyph)."""
        runs = [f"<{self.encode(run).hex()}>" for run in text.split(" ")]
        return f"[{f' -{SPACE} '.join(runs)}] TJ"


SPACE = 333  # width of a space, 1/1000 em


STAMP_CHARS = "第页共决策编号：草稿附件，0123456789-/()（）"


@functools.lru_cache(maxsize=64)
def stamp_font(extra_chars=""):
    """Render the stamp characters once with WeasyPrint and read back their codes and widths."""
    chars = "".join(sorted(set(STAMP_CHARS + extra_chars) - {"\n", "\r", "\t"}))
    escaped = chars.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    html = (
        f"<html lang='zh'><body style=\"font-family: {font_css()['serif']}; font-kerning: none;"
        f' font-variant-ligatures: none"><p>{escaped}</p></body></html>'
    )
    content = render_html(html)
    pdf = pikepdf.open(io.BytesIO(content))
    fonts = list(pdf.pages[0].Resources.Font.values())
    codes, widths = {}, {}
    # The font that maps most of the characters is the CJK serif; Latin may fall back to another.
    for font in sorted(fonts, key=lambda f: -len(_to_unicode(f))):
        unicode_map = _to_unicode(font)
        cid_widths = _cid_widths(font)
        for code, text in unicode_map.items():
            if len(text) == 1 and text not in codes:
                codes[text] = code.to_bytes(2, "big")
                widths[text] = cid_widths.get(code, 1000)
        break
    return StampFont(content, codes, widths)


def _to_unicode(font):
    if "/ToUnicode" not in font:
        return {}
    cmap = font.ToUnicode.read_bytes().decode("latin-1")
    mapping = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be", "replace")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int(dst, 16)
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(start + offset)
    return mapping


def _cid_widths(font):
    descendant = font.DescendantFonts[0]
    widths, items, i = {}, list(descendant.get("/W", [])), 0
    while i < len(items):
        first = int(items[i])
        if isinstance(items[i + 1], pikepdf.Array):
            for offset, width in enumerate(items[i + 1]):
                widths[first + offset] = float(width)
            i += 2
        else:
            for code in range(first, int(items[i + 1]) + 1):
                widths[code] = float(items[i + 2])
            i += 3
    return widths


def _text(font, text, size, x, y):
    return f"BT /JueceStamp {size} Tf {x:.2f} {y:.2f} Td {font.show(text)} ET\n"


def stamp(pdf, reference, *, draft=False, headers=None):
    """Stamp every page: the decision's identifier, 第 N 页 共 M 页, and 草稿 when not signed off.

    `headers` maps a page index to an extra header (e.g. the attachment an uploaded page belongs to).
    """
    headers = headers or {}
    extra = reference + "".join(headers.values())
    font = stamp_font("".join(sorted(set(extra))))
    font_pdf = pikepdf.open(io.BytesIO(font.pdf_bytes))
    source_font = max(font_pdf.pages[0].Resources.Font.values(), key=lambda f: len(_to_unicode(f)))
    font_obj = pdf.copy_foreign(source_font)
    total = len(pdf.pages)
    for index, page in enumerate(pdf.pages):
        x0, y0, x1, y1 = (float(v) for v in page.mediabox)
        footer = f"第 {index + 1} 页 共 {total} 页"
        header = f"决策编号：{reference}"
        if index in headers:
            header = f"{header}　{headers[index]}"
        size = 9
        ops = "/Artifact <</Type /Pagination /Subtype /Header>> BDC q 0.25 g\n"
        ops += _text(font, header, size, x1 - 20 * MM - font.width(header, size), y1 - 12 * MM)
        ops += "Q EMC\n/Artifact <</Type /Pagination /Subtype /Footer>> BDC q 0.25 g\n"
        ops += _text(font, footer, 10.5, (x0 + x1) / 2 - font.width(footer, 10.5) / 2, y0 + 12 * MM)
        ops += "Q EMC\n"
        streams = [ops.encode()]
        if draft:
            streams.insert(0, _watermark(font, x0, y0, x1, y1).encode())
        _add_stamp(pdf, page, streams, font_obj, underlay=draft)
    return pdf


def _watermark(font, x0, y0, x1, y1):
    size, word = 140, "草稿"
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = font.width(word, size) / 2
    # Rotated 45°: cos = sin = 0.7071. Light grey, painted under the page's own content.
    return (
        "/Artifact <</Type /Pagination /Subtype /Watermark>> BDC q 0.85 g BT /JueceStamp "
        f"{size} Tf 0.7071 0.7071 -0.7071 0.7071 {cx - half * 0.7071 + 0.35 * size:.2f} "
        f"{cy - half * 0.7071 - 0.35 * size:.2f} Tm <{font.encode(word).hex()}> Tj ET Q EMC\n"
    )


def _add_stamp(pdf, page, streams, font_obj, underlay=False):
    resources = page.obj.get("/Resources")
    if resources is None:
        page.obj.Resources = resources = pikepdf.Dictionary()
    fonts = resources.get("/Font")
    if fonts is None:
        resources.Font = fonts = pikepdf.Dictionary()
    fonts[STAMP_FONT] = font_obj
    contents = page.obj.get("/Contents")
    original = list(contents) if isinstance(contents, pikepdf.Array) else ([contents] if contents is not None else [])
    save, restore, *stamps = (pdf.make_indirect(pikepdf.Stream(pdf, data)) for data in (b"q\n", b"\nQ\n", *streams))
    if underlay:
        watermark, *rest = stamps
        new = [watermark, save, *original, restore, *rest]
    else:
        new = [save, *original, restore, *stamps]
    page.obj.Contents = pikepdf.Array(new)
    page.obj[STAMP_KEY] = pikepdf.Array([*stamps, save, restore])


def unstamp(pdf):
    """Take the stamps (and their q/Q wrappers) off every page, leaving the page as rendered."""
    for page in pdf.pages:
        marks = page.obj.get(STAMP_KEY)
        if marks is None:
            continue
        drop = {m.objgen for m in marks}
        page.obj.Contents = pikepdf.Array([c for c in page.obj.Contents if c.objgen not in drop])
        del page.obj[STAMP_KEY]
        fonts = page.obj.Resources.get("/Font")
        if fonts is not None and STAMP_FONT in fonts:
            del fonts[STAMP_FONT]
    return pdf


def save(pdf):
    """Return `pdf` as bytes, compressed, with unreferenced objects dropped."""
    out = io.BytesIO()
    pdf.save(out, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


# -- the documents ------------------------------------------------------------------------------------


@dataclass
class StageSource:
    """What a stage dossier is made of: its HTML, the files it embeds, the PDFs bound in after it."""

    reference: str
    html: str
    attachments: list
    bound: list  # (title, pikepdf.Pdf)


def stage_dossier_source(signoff, edition=None):
    """Gather a stage dossier's HTML (cover, guards, actors, materials, records) and its files.

    `edition` is (version, reason) for a regenerated dossier: its cover says which version it is and why.
    """
    from reports import queries

    context = queries.stage_dossier(signoff)
    attachments, bound = [], []
    for number, row in enumerate(context["documents"], start=1):
        document = row["document"]
        with document.file.open("rb") as stored:
            content = stored.read()
        part = open_pdf(content) if row["is_pdf"] else None
        if part is not None and not fonts_embedded(part):
            part = None
            row["note"] = "该 PDF 未嵌入字体，不能并入 PDF/A 案卷页面，已原样作为附件嵌入"
        if part is not None:
            bound.append((f"附件 {len(bound) + 1}：{document.title}", part))
            row.update(bound=True, attachment_no=len(bound))
        else:
            name = f"{number:02d}-{document.pk}-{document.original_name}"
            attachments.append(Attached(name, content, f"{document.get_doc_type_display()}：{document.title}"))
            row.update(bound=False, embedded_name=name)
    data = queries.dossier_data(signoff, context)
    data_file = Attached("dossier.json", canonical_json(data).encode(), "本环节的结构化数据与签署内容清单", "Data")
    record = signoff.stage_record
    context.update(
        started=queries.local(record.started_at),
        completed=queries.local(record.completed_at or record.frozen_at),
        signed_at=queries.local(signoff.at),
        extra_text=canonical_json(context["extra"], indent=2) if context["extra"] else "",
        fonts=font_css(),
        edition=edition,
    )
    html = render_to_string("reports/stage.html", context)
    return StageSource(context["reference"], html, [data_file, *attachments], bound)


def stage_dossier_pdf(signoff, *, draft=False, edition=None):
    """Render a stage's dossier: its HTML through WeasyPrint, then the uploaded PDFs, stamped as one."""
    source = stage_dossier_source(signoff, edition)
    body = pikepdf.open(io.BytesIO(render_html(source.html, attachments=source.attachments)))
    rows = append_parts(body, source.bound)
    headers = {}
    for title, first, count in rows:
        for index in range(first - 1, first - 1 + count):
            headers[index] = title
    stamp(body, source.reference, draft=draft, headers=headers)
    merge_fonts(body)
    return Rendered(save(body), len(body.pages))


def canonical_json(value, indent=None):
    from decisions.audit import canonical

    if indent is None:
        return canonical(value)
    import json

    return json.dumps(json.loads(canonical(value)), ensure_ascii=False, indent=indent, sort_keys=True)


def merge_fonts(pdf):
    """Give each font one embedded subset (parts and stamps each bring their own)."""
    from reports.fontmerge import merge_font_subsets

    return merge_font_subsets(pdf)
