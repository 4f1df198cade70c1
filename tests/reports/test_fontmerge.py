"""A dossier concatenated from separately rendered parts carries each font once after `merge_font_subsets`."""

import io
import re
import subprocess
from collections import Counter

import pikepdf
import pytest
from fontTools.ttLib import TTFont
from pikepdf import Name
from weasyprint import HTML

from reports.fontmerge import merge_font_subsets

STYLE = (
    "<style>body { font-family: 'Noto Serif CJK SC'; font-size: 11pt }"
    " h1, h2 { font-family: 'Noto Sans CJK SC' }</style>"
)
# Each part has its own text: the parts' subsets of a font share many glyphs, and each has some of its own.
PARTS = [
    ("决策启动", "重大行政决策事项由县级以上地方人民政府依法确定，决策机关应当组织公众参与。", "公众参与"),
    ("专家论证", "对专业性、技术性较强的决策事项，承办单位应当组织专家论证其必要性、可行性。", "论证意见"),
    ("风险评估", "决策的实施可能对社会稳定、公共安全造成不利影响的，应当评估决策草案的风险。", "评估报告"),
    ("合法性审查", "决策草案提交讨论前，应当由负责合法性审查的部门进行审查。2024年3月15日 (Art. 25)", "审查意见"),
]
TABLES = (
    "<style>@page { size: A4; margin: 28mm 24mm } html { font-size: 10.5pt; line-height: 1.55 }"
    " h2 { font-size: 13pt; border-bottom: 0.6pt solid } table { width: 100%; border-collapse: collapse }"
    " th, td { border: 0.5pt solid #444; padding: 1.2mm 1.6mm; font-size: 9.5pt; text-align: left }"
    " th { font-family: 'Noto Sans CJK SC'; background: #eee; width: 28% }</style>"
)
FONT_NAMES = {"Noto-Serif-CJK-SC", "Noto-Serif-CJK-SC-Bold", "Noto-Sans-CJK-SC-Bold"}


def part_html(title, text, label):
    return f"<h1>{title}</h1><p>{text * 4}</p><p><b>{label}：</b>{text[:24]}</p><h2>附：{label}</h2>"


def render(html, variant="pdf/a-3b"):
    return HTML(string=STYLE + html).write_pdf(pdf_variant=variant)


def concatenate(parts):
    dossier = pikepdf.new()
    for part in parts:
        dossier.pages.extend(pikepdf.open(io.BytesIO(part)).pages)
    return dossier


def saved(pdf):
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def merged(parts):
    """Return the figures of merging and the bytes of the dossier of `parts`, fonts merged."""
    dossier = concatenate(parts)
    figures = merge_font_subsets(dossier)
    return figures, saved(dossier)


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def pdffonts(path):
    """Return (name without subset prefix, emb, sub, uni) for each font `pdffonts` lists."""
    lines = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()
    rows = []
    for line in lines[2:]:
        name, *_, emb, sub, uni, _number, _generation = line.split()
        rows.append((name.split("+", 1)[1], emb, sub, uni))
    return rows


def rasters(tmp_path, path):
    """Return the bytes of each page of `path` rasterised at 50 dpi."""
    prefix = tmp_path / path.stem
    subprocess.run(["pdftoppm", "-r", "50", str(path), str(prefix)], check=True)
    return [page.read_bytes() for page in sorted(tmp_path.glob(f"{path.stem}-*.ppm"))]


def page_texts(path):
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


def fonts_of(pdf):
    """Return the distinct fonts the pages of `pdf` use, by object."""
    return {font.objgen: font for page in pdf.pages for _, font in page.Resources.get("/Font", {}).items()}


def widths(font, cids=()):
    """Return the widths of `font` by CID: those its /W array lists, and the default one of `cids`."""
    cid_font = font.DescendantFonts[0]
    items, found, i = list(cid_font.W), dict.fromkeys(cids, int(cid_font.get("/DW", 1000))), 0
    while i < len(items):
        if isinstance(items[i + 1], pikepdf.Array):
            found.update((items[i] + k, int(w)) for k, w in enumerate(items[i + 1]))
            i += 2
        else:
            found.update(dict.fromkeys(range(items[i], items[i + 1] + 1), int(items[i + 2])))
            i += 3
    return found


def to_unicode(font):
    cmap = font.ToUnicode.read_bytes().decode("latin-1")
    return {int(code, 16): text for code, text in re.findall(r"<([0-9a-f]{4})>\s*<([0-9a-f]+)>", cmap)}


def shown_codes(pdf):
    """Return {font objgen: the 2-byte codes its text operators show} over the pages of `pdf`."""
    shown = {}
    for page in pdf.pages:
        fonts, font = page.Resources.Font, None
        for operands, operator in pikepdf.parse_content_stream(page, "Tf TJ Tj"):
            if operator == pikepdf.Operator("Tf"):
                font = fonts[operands[0]]
                continue
            strings = operands[0] if operator == pikepdf.Operator("TJ") else operands
            codes = shown.setdefault(font.objgen, set())
            for string in (bytes(s) for s in strings if isinstance(s, pikepdf.String)):
                codes.update(int.from_bytes(string[k : k + 2], "big") for k in range(0, len(string), 2))
    return shown


@pytest.fixture(scope="module")
def parts():
    return [render(part_html(*part)) for part in PARTS]


@pytest.fixture(scope="module")
def whole():
    """One render of the whole dossier."""
    return render("".join(f"<section style='break-before: page'>{part_html(*part)}</section>" for part in PARTS))


@pytest.fixture(scope="module")
def naive(parts):
    return saved(concatenate(parts))


@pytest.fixture(scope="module")
def dossier(parts):
    return merged(parts)


@pytest.fixture
def files(tmp_path, naive, dossier):
    return write(tmp_path, "naive.pdf", naive), write(tmp_path, "merged.pdf", dossier[1])


def test_merged_dossier_is_no_bigger_than_one_and_a_half_renders(whole, naive, dossier):
    figures, content = dossier
    assert len(content) <= 1.5 * len(whole)
    assert len(naive) > 3 * len(content)  # what merging is for: each part carried its own copy of each font
    assert figures["bytes_saved_estimate"] > 0.9 * (len(naive) - len(content))


def test_pdffonts_lists_each_font_once(files):
    naive_path, merged_path = files
    assert Counter(name for name, *_ in pdffonts(naive_path)) == dict.fromkeys(FONT_NAMES, len(PARTS))
    fonts = pdffonts(merged_path)
    assert Counter(name for name, *_ in fonts) == dict.fromkeys(FONT_NAMES, 1)
    assert all(flags == ["yes", "yes", "yes"] for _, *flags in fonts)  # embedded, a subset, with a ToUnicode map


def test_merged_pages_look_identical(tmp_path, files):
    naive_path, merged_path = files
    before, after = rasters(tmp_path, naive_path), rasters(tmp_path, merged_path)
    assert len(before) == len(PARTS)
    assert before == after


def test_merged_pages_extract_the_same_text(files):
    naive_path, merged_path = files
    texts = page_texts(merged_path)
    assert texts == page_texts(naive_path)
    assert "合法性审查" in texts[3] and "2024年3月15日" in texts[3]


def test_superseded_subsets_are_dropped_when_saved(dossier):
    figures, content = dossier
    assert (figures["fonts_before"], figures["fonts_after"], figures["merged"]) == (3 * len(PARTS), 3, 3)
    pdf = pikepdf.open(io.BytesIO(content))
    descriptors = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Dictionary) and obj.get("/FontFile3")]
    programs = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/OpenType"]
    assert len(descriptors) == len(programs) == 3


def test_every_shown_glyph_has_its_width_and_text_and_the_font_program_agrees(dossier):
    pdf = pikepdf.open(io.BytesIO(dossier[1]))
    shown, fonts = shown_codes(pdf), fonts_of(pdf)
    assert shown.keys() == fonts.keys()
    for objgen, codes in shown.items():
        font = fonts[objgen]
        program = TTFont(io.BytesIO(font.DescendantFonts[0].FontDescriptor.FontFile3.read_bytes()), checkChecksums=2)
        order, advances = program.getGlyphOrder(), program["hmtx"].metrics
        scale = 1000 / program["head"].unitsPerEm
        font_widths, font_text = widths(font, codes), to_unicode(font)
        for code in codes:
            assert order[code] == f"cid{code:05d}"  # the code is the CID, and the CID the glyph id
            assert font_widths[code] == round(advances[order[code]][0] * scale)
            assert code in font_text
        assert font.BaseFont == font.DescendantFonts[0].FontDescriptor.FontName


def test_fonts_in_form_xobjects_are_repointed_too(tmp_path, parts):
    def with_form(dossier):
        # The second page drawn again through a form with its own resources, on a page of its own.
        page = dossier.pages[1]
        form = dossier.make_stream(page.Contents.read_bytes(), Type=Name.XObject, Subtype=Name.Form)
        form.BBox = page.MediaBox
        form.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(dict(page.Resources.Font.items())))
        dossier.add_blank_page(page_size=(float(page.MediaBox[2]), float(page.MediaBox[3])))
        dossier.pages[-1].add_overlay(form)
        return dossier, form

    naive, _ = with_form(concatenate(parts[:2]))
    dossier, form = with_form(concatenate(parts[:2]))
    merge_font_subsets(dossier)
    page_fonts = {font.objgen for font in fonts_of(dossier).values()}
    assert {font.objgen for _, font in form.Resources.Font.items()} <= page_fonts
    assert len(page_fonts) == len(FONT_NAMES)
    naive_path, merged_path = write(tmp_path, "naive.pdf", saved(naive)), write(tmp_path, "merged.pdf", saved(dossier))
    assert rasters(tmp_path, merged_path) == rasters(tmp_path, naive_path)


def altered(part, font_name, gid):
    """Return `part` with the outline of glyph `gid` of font `font_name` moved by one unit: another version."""
    pdf = pikepdf.open(io.BytesIO(part))
    font = next(f for f in fonts_of(pdf).values() if str(f.BaseFont).endswith("+" + font_name))
    file = font.DescendantFonts[0].FontDescriptor.FontFile3
    data = bytearray(file.read_bytes())
    charstring = TTFont(io.BytesIO(bytes(data)))["CFF "].cff.topDictIndex[0].CharStrings.charStringsIndex[gid].bytecode
    assert data.count(charstring) == 1
    at = data.find(charstring)
    # The charstring starts with an operand, a 1-byte (32-246), 2-byte (247-254) or 3-byte (28) integer: change its
    # last byte by one.
    last = at + {28: 2}.get(data[at], 1 if data[at] >= 247 else 0)
    data[last] += -1 if data[last] in (246, 255) else 1
    file.write(bytes(data))
    return saved(pdf)


def test_fonts_of_different_versions_are_left_apart(tmp_path, parts):
    serif = "Noto-Serif-CJK-SC"
    pdfs = [pikepdf.open(io.BytesIO(part)) for part in parts[:2]]
    first, second = (fonts_of(pdf) for pdf in pdfs)
    (shared,) = [
        set(widths(a)) & set(widths(b))
        for a in first.values()
        for b in second.values()
        if str(a.BaseFont).endswith("+" + serif) and str(b.BaseFont).endswith("+" + serif)
    ]
    dossier_parts = [parts[0], altered(parts[1], serif, max(shared)), parts[2]]

    figures, content = merged(dossier_parts)
    naive_path, merged_path = (
        write(tmp_path, "naive.pdf", saved(concatenate(dossier_parts))),
        write(tmp_path, "merged.pdf", content),
    )
    names = Counter(name for name, *_ in pdffonts(merged_path))
    assert names == {**dict.fromkeys(FONT_NAMES, 1), serif: 2}  # the altered part keeps its own subset
    assert figures["fonts_after"] == 4
    assert rasters(tmp_path, merged_path) == rasters(tmp_path, naive_path)


def test_pdfa1_cid_sets_mark_every_glyph_of_the_merged_program():
    pdfa1 = [render(part_html(*part), "pdf/a-1b") for part in PARTS[:2]]

    def cid_sets(pdf):
        """Return {font name: the CIDs its CIDSet marks}."""
        found = {}
        for font in fonts_of(pdf).values():
            bits = font.DescendantFonts[0].FontDescriptor.CIDSet.read_bytes()
            cids = {cid for cid in range(8 * len(bits)) if bits[cid // 8] >> (7 - cid % 8) & 1}
            found.setdefault(str(font.BaseFont).split("+")[1], set()).update(cids)
        return found

    parts, dossier = [pikepdf.open(io.BytesIO(part)) for part in pdfa1], pikepdf.open(io.BytesIO(merged(pdfa1)[1]))
    marked = cid_sets(dossier)
    for font in fonts_of(dossier).values():
        program = TTFont(io.BytesIO(font.DescendantFonts[0].FontDescriptor.FontFile3.read_bytes()))
        metrics = program["hmtx"].metrics
        held = {gid for gid, name in enumerate(program.getGlyphOrder()) if metrics[name] != (0, 0)}
        assert marked[str(font.BaseFont).split("+")[1]] == held
    for part in parts:
        for name, cids in cid_sets(part).items():
            assert cids <= marked[name]


def test_merging_again_changes_nothing(dossier):
    pdf = pikepdf.open(io.BytesIO(dossier[1]))
    assert merge_font_subsets(pdf) == {"fonts_before": 3, "fonts_after": 3, "merged": 0, "bytes_saved_estimate": 0}
