"""Merge the duplicate font subsets of a PDF assembled from separately rendered parts.

WeasyPrint embeds in every PDF it renders its own subset of each font: a Type0 font (Identity-H) over a CID-keyed CFF
OpenType program that HarfBuzz subset with retained glyph ids (a glyph's id is its CID, the code content streams show)
and without subroutines. A dossier concatenated from parts thus carries one copy of each font per part.
`merge_font_subsets` gives each font a single program, the largest subset's with the glyphs only the others hold copied
in (charstring, font dict, metrics), the union of the widths and of the Unicode maps, and points every resource
dictionary at it. Content streams need no change.

Subsets are merged only when every glyph they share is identical and their widths and Unicode maps agree: subsets of
another version of a font stay apart. Fonts of any other kind are left as they are.
"""

import os
import re
import struct
import sys
import zlib
from array import array
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, compress, repeat
from operator import ne

import pikepdf
from fontTools.cffLib import cffStandardStringMapping, cffStandardStrings
from pikepdf import Array, Dictionary, Name

# Tables rebuilt from the union of the subsets, and tables copied from the largest subset; a program holding any other
# table may carry glyph data this module cannot merge, so it is left alone.
_MERGED_TABLES = {"CFF ", "cmap", "head", "hhea", "hmtx", "maxp", "OS/2", "vhea", "vmtx", "VORG"}
_COPIED_TABLES = {"name", "post"}
_REQUIRED_TABLES = {"CFF ", "cmap", "head", "hhea", "hmtx", "maxp"}

# CFF DICT operators (escaped ones as 1200 + second byte) whose leading operands are string ids, and how many.
_SID_OPERANDS = {0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 1200: 1, 1221: 1, 1222: 1, 1230: 2, 1238: 1}
_CHARSET, _CHARSTRINGS, _PRIVATE, _SUBRS, _FDARRAY, _FDSELECT = 15, 17, 18, 19, 1236, 1237
_ROS = 1230

_SUBSET_PREFIX = re.compile(r"^[A-Z]{6}\+")
_NONZERO = re.compile(rb"[^\x00]")
_W_SINGLE = re.compile(rb"(\d+)\s*\[\s*([^\s\[\]]+)\s*\]")
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFCHAR_ENTRY = re.compile(rb"<([0-9a-f]{4})>\s*<([0-9a-f]*)>")
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_BFRANGE_ENTRY = re.compile(rb"<([0-9a-f]{4})>\s*<([0-9a-f]{4})>\s*(?:<([0-9a-f]*)>|\[([^\]]*)\])")
_HEX = re.compile(rb"<([0-9a-f]*)>")

_TO_UNICODE_HEAD = (
    b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
    b"/CIDSystemInfo\n<< /Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n"
    b"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
    b"1 begincodespacerange\n<0000> <ffff>\nendcodespacerange\n"
)
_TO_UNICODE_TAIL = b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
# zlib level 1 deflates merged programs to within 2.5% of level 6 (WeasyPrint's), in under two thirds of the time.
_DEFLATE_LEVEL = 1
_FORMAT4_MAX_RUNS = 8188  # a format 4 subtable's length is 16 bits: 16 + 8 bytes per segment, one segment for 0xFFFF


@dataclass(eq=False)
class _Program:
    """What merging needs of one subset's OpenType font program."""

    tables: dict
    key: tuple  # font-wide data that subsets of the same font share
    n: int
    cff: bytes
    header: bytes  # CFF header and Name INDEX
    strings: list
    top: tuple  # Top DICT entries other than offsets
    strays: set  # glyphs whose CID is not their glyph id (see `_read_charset`)
    held: bytes  # a byte per glyph, non-zero for the glyphs the subset holds: those with metrics
    fdselect: bytearray
    fds: list  # per font dict: (entries other than Private, Private DICT bytes)
    charstrings: tuple  # position of the CharStrings offsets, their size, the base they count from, 256 ** size
    hmtx: bytes  # one long metric per glyph
    vmtx: bytes | None
    vorg_default: int | None
    vorg: dict

    def charstring(self, gid):
        """Return the charstring of glyph `gid`."""
        at, size, base, scale = self.charstrings
        at += gid * size
        start, end = divmod(int.from_bytes(self.cff[at : at + 2 * size], "big"), scale)
        return self.cff[base + start : base + end]


@dataclass(eq=False)
class _Subset:
    """One Type0 font of the PDF, read for merging."""

    font: pikepdf.Object
    name: str
    program: _Program
    widths: dict  # CID -> width, as written in the PDF
    unicode: dict  # CID -> UTF-16BE hex
    glyphs: set  # glyph ids (CIDs) the subset holds or the PDF shows with this font


@dataclass(eq=False)
class _Merge:
    """Subsets found to be one font, and the union of their glyphs, widths and Unicode maps."""

    base: _Program  # the program with the most glyph ids: the merged one is built on it
    subsets: list
    source: dict  # glyph id -> program of the first subset that holds the glyph
    widths: dict
    unicode: dict
    programs: list


def merge_font_subsets(pdf: pikepdf.Pdf) -> dict:
    """Replace the duplicate subsets of each font in `pdf` with one subset holding the union of their glyphs.

    Return figures: `fonts_before` and `fonts_after` (distinct font objects referenced from resources), `merged` (how
    many fonts now stand for several subsets) and `bytes_saved_estimate` (compressed font program and CMap bytes no
    longer referenced, less those added).
    """
    font_dicts = _font_dictionaries(pdf)
    fonts = {font.objgen: font for fd in font_dicts for _, font in fd.items() if font.is_indirect}
    files = {objgen: file for objgen, font in fonts.items() if (file := _font_file(font)) is not None}
    unique = {file.objgen: file for file in files.values()}
    # Font programs are large, and zlib releases the GIL: they inflate and deflate in threads, one per core, while
    # this one reads the PDF's maps and reads and writes programs (pikepdf's own decoding must stay in this thread).
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        inflated = _inflate(pool, unique.values())
        maps = {objgen: _read_maps(fonts[objgen]) for objgen in files}
        programs = dict(zip(unique, map(_read_program, inflated)))
        groups = {}
        for objgen, file in files.items():
            subset = _subset(fonts[objgen], programs[file.objgen], maps[objgen])
            if subset is not None:
                groups.setdefault(subset.name, []).append(subset)
        merges = [merge for subsets in groups.values() for merge in _cluster(subsets) if len(merge.subsets) > 1]
        merges.sort(key=lambda merge: -len(merge.source))  # the largest program deflates while the others are built
        deflated = [pool.submit(zlib.compress, _write_program(merge), _DEFLATE_LEVEL) for merge in merges]
        replaced, old_streams, new_streams = {}, {}, {}
        for merge, program in zip(merges, deflated):
            font = _install(pdf, merge, program.result())
            for subset in merge.subsets:
                replaced[subset.font.objgen] = font
                old_streams.update(_streams(subset.font))
            new_streams.update(_streams(font))
    for fd in font_dicts:
        for key, font in fd.items():
            if font.objgen in replaced:
                fd[key] = replaced[font.objgen]

    fonts_after = {replaced.get(objgen, font).objgen for objgen, font in fonts.items()}
    saved = sum(old_streams.values()) - sum(new_streams.values())
    return {
        "fonts_before": len(fonts),
        "fonts_after": len(fonts_after),
        "merged": len(merges),
        "bytes_saved_estimate": saved,
    }


# -- the PDF side ------------------------------------------------------------------------------------------------------


def _font_dictionaries(pdf):
    """Return the /Font dictionaries of every resource dictionary in `pdf` (pages, forms, patterns, appearances)."""
    found = {}
    for obj in pdf.objects:
        if not isinstance(obj, Dictionary | pikepdf.Stream):
            continue
        for key in ("/Resources", "/DR"):
            resources = obj.get(key)
            fonts = resources.get("/Font") if isinstance(resources, Dictionary) else None
            if isinstance(fonts, Dictionary):
                # A shared (indirect) dictionary is rewritten once; direct ones are distinct by definition.
                found[fonts.objgen if fonts.is_indirect else id(fonts)] = fonts
    return list(found.values())


def _font_file(font):
    """Return the font program stream of a Type0 font of the kind WeasyPrint embeds, else None."""
    if font.get("/Subtype") != Name.Type0 or font.get("/Encoding") != Name("/Identity-H"):
        return None
    descendants = font.get("/DescendantFonts")
    if not isinstance(descendants, Array) or len(descendants) != 1 or not {"/BaseFont", "/ToUnicode"} <= font.keys():
        return None
    cid_font = descendants[0]
    if cid_font.get("/Subtype") != Name.CIDFontType0 or cid_font.get("/CIDToGIDMap", Name.Identity) != Name.Identity:
        return None
    descriptor = cid_font.get("/FontDescriptor")
    file = descriptor.get("/FontFile3") if isinstance(descriptor, Dictionary) else None
    if not isinstance(file, pikepdf.Stream) or file.get("/Subtype") != Name.OpenType or "/DecodeParms" in file:
        return None
    return file if file.get("/Filter") in (None, Name.FlateDecode) else None


def _inflate(pool, streams):
    """Return an iterator of the data of `streams`, deflated or not, inflated in `pool` (None where it fails)."""
    return pool.map(_decompress, [s.read_raw_bytes() for s in streams], ["/Filter" in s for s in streams])


def _decompress(data, deflated):
    """Return `data` inflated if `deflated`, or None if it is not valid zlib data."""
    try:
        # A font subset inflates to 3 to 5 times its size: room for 8 (within reason) spares zlib regrowing its buffer,
        # which takes the GIL back each time.
        return zlib.decompress(data, bufsize=min(8 * len(data), 1 << 25)) if deflated else data
    except zlib.error:
        return None


def _read_maps(font):
    """Return the widths and the Unicode map of a Type0 font, or None if either is in a form this module cannot read."""
    try:
        cid_font = font.DescendantFonts[0]
        widths = _read_widths(cid_font.W.unparse()) if "/W" in cid_font else {}
        return widths, _read_to_unicode(font.ToUnicode.read_bytes())
    except (ValueError, IndexError, AttributeError, TypeError, pikepdf.PdfError):
        return None  # a font this module cannot read is one it must not rewrite


def _subset(font, program, maps):
    """Return `font` ready for merging, or None if its program or maps are missing or its codes are not glyph ids."""
    if program is None or maps is None:
        return None
    widths, unicode = maps
    shown = widths.keys() | unicode.keys()  # WeasyPrint lists every glyph it shows in both
    # The merged font gives every glyph its id as CID: the codes shown must be such glyphs already.
    if shown and max(shown) >= program.n or shown & program.strays:
        return None
    # The glyphs the subset holds but does not list join too: .notdef, those HarfBuzz pulls in, and any another
    # producer might show without listing them.
    unlisted, held = bytearray(program.held), {0}
    for gid in shown:
        unlisted[gid] = 0
    unlisted[0] = 0
    if unlisted.count(0) < len(unlisted):
        held.update(m.start() for m in _NONZERO.finditer(unlisted))
    name = _SUBSET_PREFIX.sub("", str(font.BaseFont)[1:])
    return _Subset(font, name, program, widths, unicode, shown | held - program.strays)


def _read_widths(data):
    """Return the widths of an unparsed /W array by CID, each as written."""
    # Runs of one glyph, the bulk of a CJK subset's array, go at C speed; what is left goes token by token.
    singles = _W_SINGLE.findall(data)
    cids, values = zip(*singles) if singles else ((), ())
    widths = dict(zip(map(int, cids), values))
    tokens = _W_SINGLE.sub(b" ", data).replace(b"[", b" [ ").replace(b"]", b" ] ").split()
    if tokens[0] != b"[" or tokens[-1] != b"]":
        raise ValueError("unexpected /W array")
    i, end = 1, len(tokens) - 1
    while i < end:
        first = int(tokens[i])
        if tokens[i + 1] == b"[":
            close = tokens.index(b"]", i + 2)
            widths.update(zip(range(first, first + close - i - 2), tokens[i + 2 : close]))
            i = close + 1
        else:
            widths.update(dict.fromkeys(range(first, int(tokens[i + 1]) + 1), tokens[i + 2]))
            i += 3
    return widths


def _write_widths(widths):
    """Return a /W array of `widths`, one entry per run of consecutive CIDs."""
    chunks, last = [b"["], None
    for cid in sorted(widths):
        if cid - 1 != last:
            chunks.append(b"] %d [" % cid if last is not None else b"%d [" % cid)
        chunks.append(widths[cid])
        last = cid
    chunks.append(b"]]" if last is not None else b"]")
    return pikepdf.Object.parse(b" ".join(chunks))


def _read_to_unicode(data):
    """Return the mappings of a ToUnicode CMap of 2-byte codes as {code: UTF-16BE in lower-case hex}.

    An entry in an unexpected form (a code of other than two bytes, a space inside a hex string) raises ValueError:
    dropping it would lose text.
    """
    data = data.lower()
    unicode, seen = {}, 0
    for body in _BFCHAR.findall(data):
        entries = _BFCHAR_ENTRY.findall(body)
        codes, texts = zip(*entries) if entries else ((), ())
        unicode.update(zip(map(int, codes, repeat(16)), texts))
        seen += body.count(b"<") - 2 * len(codes)
    for body in _BFRANGE.findall(data):
        entries = _BFRANGE_ENTRY.findall(body)
        seen += body.count(b"<") - 2 * len(entries)
        for low, high, dst, dsts in entries:
            codes = range(int(low, 16), int(high, 16) + 1)
            if dst:
                start = int(dst, 16)
                unicode.update((code, b"%0*x" % (len(dst), start + k)) for k, code in enumerate(codes))
                seen -= 1
            else:
                values = _HEX.findall(dsts)
                unicode.update(zip(codes, values))
                seen -= len(values)
    if seen:
        raise ValueError("unexpected ToUnicode entry")
    return unicode


def _write_to_unicode(unicode):
    """Return a ToUnicode CMap mapping the 2-byte codes of `unicode`."""
    items = sorted(unicode.items())
    chunks = [_TO_UNICODE_HEAD]
    for start in range(0, len(items), 100):
        batch = items[start : start + 100]
        chunks.append(b"%d beginbfchar\n" % len(batch))
        chunks.extend(b"<%04x> <%s>\n" % item for item in batch)
        chunks.append(b"endbfchar\n")
    chunks.append(_TO_UNICODE_TAIL)
    return b"".join(chunks)


def _deflated_stream(pdf, deflated, **entries):
    """Return a new indirect stream whose data is `deflated`."""
    stream = pdf.make_stream(b"", **entries)
    stream.write(deflated, filter=Name.FlateDecode)
    return stream


def _install(pdf, merge, program):
    """Add to `pdf` the Type0 font of `merge`, whose font program is `program` deflated, and return it."""
    checksum = zlib.crc32(program)  # the new subset's tag: six letters that follow from its program
    prefix = "".join(chr(65 + checksum // 26**k % 26) for k in range(6))
    base_font = merge.subsets[0].font
    name = Name(f"/{prefix}+{merge.subsets[0].name}")
    descriptors = [subset.font.DescendantFonts[0].FontDescriptor for subset in merge.subsets]
    bboxes = [[*d.FontBBox] for d in descriptors]

    descriptor = Dictionary(dict(descriptors[0].items()))
    descriptor.FontName = name
    descriptor.FontFile3 = _deflated_stream(pdf, program, Subtype=Name.OpenType)
    descriptor.FontBBox = Array(
        [min(b[0] for b in bboxes), min(b[1] for b in bboxes), max(b[2] for b in bboxes), max(b[3] for b in bboxes)]
    )
    # WeasyPrint's rule: fixed pitch when all of more than one width agree; a union may no longer be.
    fixed = len(merge.widths) > 1 and len(set(merge.widths.values())) == 1
    descriptor.Flags = int(descriptor.Flags) & ~1 | fixed
    if any("/CIDSet" in d for d in descriptors):
        # PDF/A-1 wants every CID the program holds marked, a bit each from CID 0: those of every subset.
        bits = bytearray(max(merge.source) // 8 + 1)
        for gid in merge.source:
            bits[gid >> 3] |= 0x80 >> (gid & 7)
        descriptor.CIDSet = _deflated_stream(pdf, zlib.compress(bits))

    cid_font = Dictionary(dict(base_font.DescendantFonts[0].items()))
    cid_font.BaseFont = name
    # A CID the array leaves out has the default width: most CJK glyphs need no entry (smaller, and quicker to build).
    default = str(cid_font.get("/DW", 1000)).encode()
    cid_font.W = _write_widths({cid: width for cid, width in merge.widths.items() if width != default})
    cid_font.FontDescriptor = pdf.make_indirect(descriptor)

    font = Dictionary(dict(base_font.items()))
    font.BaseFont = name
    font.DescendantFonts = Array([pdf.make_indirect(cid_font)])
    font.ToUnicode = _deflated_stream(pdf, zlib.compress(_write_to_unicode(merge.unicode)))
    return pdf.make_indirect(font)


def _streams(font):
    """Return {objgen: encoded length} of the streams a Type0 font owns."""
    descriptor = font.DescendantFonts[0].FontDescriptor
    streams = [font.ToUnicode, descriptor.FontFile3, descriptor.get("/CIDSet")]
    return {s.objgen: int(s.get("/Length", 0)) for s in streams if s is not None}


# -- grouping ----------------------------------------------------------------------------------------------------------


def _cluster(subsets):
    """Split the subsets of one font name into merges of subsets whose shared glyphs agree."""
    merges = []
    for subset in sorted(subsets, key=lambda s: -s.program.n):
        program = subset.program
        merge = next((m for m in merges if _accepts(m, subset)), None)
        if merge is None:
            merge = _Merge(program, [], {}, {}, {}, [program])
            merges.append(merge)
        elif program not in merge.programs:
            merge.programs.append(program)
        merge.subsets.append(subset)
        merge.source = {**dict.fromkeys(subset.glyphs, program), **merge.source}
        merge.widths.update(subset.widths)
        merge.unicode.update(subset.unicode)
    return merges


def _accepts(merge, subset):
    """Tell whether `subset` can join `merge` without changing any glyph, width or Unicode value."""
    program = subset.program
    if program.key != merge.base.key:
        return False
    shared, source = {}, merge.source
    for gid in subset.glyphs:
        owner = source.get(gid, program)
        if owner is not program:
            shared.setdefault(owner, []).append(gid)
    return (
        all(_glyphs(owner, gids) == _glyphs(program, gids) for owner, gids in shared.items())
        and _agree(merge.widths, subset.widths)
        and _agree(merge.unicode, subset.unicode)
    )


def _glyphs(program, gids):
    """Return what draws and places glyphs `gids` in `program`: charstrings, font dicts, metrics, vertical origins."""
    cff, (at, size, base, scale) = program.cff, program.charstrings
    spans = [divmod(int.from_bytes(cff[at + gid * size : at + (gid + 2) * size], "big"), scale) for gid in gids]
    hmtx, vmtx, fds, fdselect = program.hmtx, program.vmtx or b"", program.fds, program.fdselect
    vorg, default = program.vorg, program.vorg_default
    return (
        [cff[base + start : base + end] for start, end in spans],
        [fds[fdselect[gid]] for gid in gids],
        [hmtx[4 * gid : 4 * gid + 4] for gid in gids],
        [vmtx[4 * gid : 4 * gid + 4] for gid in gids],
        [vorg.get(gid, default) for gid in gids] if vorg else [default] * len(gids),
    )


def _agree(union, mapping):
    """Tell whether `mapping` gives the keys it shares with `union` the same values."""
    return not any(key in union for key, _ in mapping.items() - union.items())


# -- reading a font program --------------------------------------------------------------------------------------------


def _read_program(data):
    """Return the parts of an OpenType CFF subset that merging uses, or None if it is not a mergeable one."""
    if data is None or data[:4] != b"OTTO":
        return None
    try:
        return _parse_program(data)
    except (ValueError, IndexError, KeyError, struct.error):
        return None  # a program this module cannot read is one it must not rewrite


def _parse_program(data):
    """Return the parts of an OpenType CFF font program that merging uses, or None if it cannot merge them."""
    tables = {}
    for i in range(int.from_bytes(data[4:6], "big")):
        tag, _, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        tables[tag.decode("latin-1")] = data[offset : offset + length]
    if not (_REQUIRED_TABLES <= tables.keys() <= _MERGED_TABLES | _COPIED_TABLES) or ("vmtx" in tables) != (
        "vhea" in tables
    ):
        return None
    n = int.from_bytes(tables["maxp"][4:6], "big")

    cff = tables["CFF "]
    name_end = _read_index(cff, cff[2])[2]
    top_offsets, top_base, top_end = _read_index(cff, name_end)
    string_offsets, string_base, string_end = _read_index(cff, top_end)
    strings = [
        cff[string_base + a : string_base + b].decode("latin-1") for a, b in zip(string_offsets, string_offsets[1:])
    ]
    if _read_index(cff, string_end)[0]:
        return None  # global subroutines: glyphs would not be self-contained
    top = _parse_dict(cff[top_base + top_offsets[0] : top_base + top_offsets[1]])
    operands = dict(top)
    if not {_ROS, _CHARSET, _CHARSTRINGS, _FDARRAY, _FDSELECT} <= operands.keys() or _PRIVATE in operands:
        return None

    fds = []
    fd_offsets, fd_base, _ = _read_index(cff, operands[_FDARRAY][0])
    for a, b in zip(fd_offsets, fd_offsets[1:]):
        entries = _parse_dict(cff[fd_base + a : fd_base + b])
        length, offset = dict(entries)[_PRIVATE]
        private = cff[offset : offset + length]
        if any(op == _SUBRS for op, _ in _parse_dict(private)):
            return None  # local subroutines, as above
        fds.append((_resolve(entries, strings, {_PRIVATE}), private))

    at = operands[_CHARSTRINGS][0]
    if int.from_bytes(cff[at : at + 2], "big") != n:
        raise ValueError("CharStrings and maxp disagree")
    size = cff[at + 2]
    strays = _read_charset(cff, operands[_CHARSET][0], n)
    fdselect = _read_fdselect(cff, operands[_FDSELECT][0], n)
    if fdselect.translate(None, bytes(range(len(fds)))):  # what is left names no font dict
        raise ValueError("FDSelect names a missing font dict")
    hmtx = _long_metrics(tables["hmtx"], int.from_bytes(tables["hhea"][34:36], "big"), n)
    vmtx = _long_metrics(tables["vmtx"], int.from_bytes(tables["vhea"][34:36], "big"), n) if "vmtx" in tables else None
    vorg_default, vorg = _read_vorg(tables.get("VORG"))

    # HarfBuzz zeroes the metrics of the glyphs it leaves out: OR the four bytes of each hmtx entry.
    held = int.from_bytes(hmtx[0::4], "big") | int.from_bytes(hmtx[1::4], "big")
    held |= int.from_bytes(hmtx[2::4], "big") | int.from_bytes(hmtx[3::4], "big")
    head = tables["head"]
    top_key = _resolve(top, strings, {_CHARSET, _CHARSTRINGS, _FDARRAY, _FDSELECT})
    key = (tuple(sorted(tables)), head[4:8], head[18:20], top_key, vorg_default)
    return _Program(
        tables=tables,
        key=key,
        n=n,
        cff=cff,
        header=cff[:name_end],
        strings=strings,
        top=top_key,
        strays=strays,
        held=held.to_bytes(n, "big"),
        fdselect=fdselect,
        fds=fds,
        charstrings=(at + 3, size, at + 2 + (n + 1) * size, 1 << 8 * size),
        hmtx=hmtx,
        vmtx=vmtx,
        vorg_default=vorg_default,
        vorg=vorg,
    )


def _read_index(data, pos):
    """Return a CFF INDEX's offsets, the base they count from, and where the INDEX ends."""
    count = int.from_bytes(data[pos : pos + 2], "big")
    if not count:
        return (), pos + 2, pos + 2
    size = data[pos + 2]
    base = pos + 2 + (count + 1) * size  # offsets start at 1, from the byte before the data
    offsets = _unpack_offsets(data[pos + 3 : base + 1], size)
    return offsets, base, base + offsets[-1]


def _widen(packed, size):
    """Return big-endian integers of `size` bytes as 4-byte ones."""
    wide = bytearray(len(packed) // size * 4)
    for k in range(size):
        wide[4 - size + k :: 4] = packed[k::size]
    return bytes(wide)


def _narrow(wide):
    """Return 4-byte big-endian offsets, the last the largest, in the fewest bytes each, and that size."""
    size = max(1, (int.from_bytes(wide[-4:], "big").bit_length() + 7) // 8)
    packed = bytearray(len(wide) // 4 * size)
    for k in range(size):
        packed[k::size] = wide[4 - size + k :: 4]
    return size, bytes(packed)


def _unpack_offsets(packed, size):
    """Return the big-endian integers of `size` bytes each in `packed`."""
    return struct.unpack(f">{len(packed) // size}I", _widen(packed, size))


def _write_index(items):
    """Return a CFF INDEX of `items`."""
    if not items:
        return b"\0\0"
    offsets = accumulate(map(len, items), initial=1)
    size, packed = _narrow(struct.pack(f">{len(items) + 1}I", *offsets))
    return struct.pack(">HB", len(items), size) + packed + b"".join(items)


@lru_cache(maxsize=1024)
def _parse_dict(data):
    """Return a CFF DICT's entries as (operator, operands); a real operand is kept as its encoded bytes.

    Cached: subsets of a font repeat the same private dicts.
    """
    entries, operands, i = [], [], 0
    while i < len(data):
        b = data[i]
        if b <= 21:
            op, i = (1200 + data[i + 1], i + 2) if b == 12 else (b, i + 1)
            entries.append((op, tuple(operands)))
            operands = []
        elif b == 28:
            operands.append(int.from_bytes(data[i + 1 : i + 3], "big", signed=True))
            i += 3
        elif b == 29:
            operands.append(int.from_bytes(data[i + 1 : i + 5], "big", signed=True))
            i += 5
        elif b == 30:
            end = i + 1
            while data[end] & 0x0F != 0x0F and data[end] >> 4 != 0x0F:
                end += 1
            operands.append(bytes(data[i : end + 1]))
            i = end + 1
        elif 32 <= b <= 246:
            operands.append(b - 139)
            i += 1
        elif 247 <= b <= 254:
            magnitude = (b - 247 if b <= 250 else b - 251) * 256 + data[i + 1] + 108
            operands.append(magnitude if b <= 250 else -magnitude)
            i += 2
        else:
            raise ValueError(f"reserved byte {b} in CFF DICT")
    return tuple(entries)


def _resolve(entries, strings, skip):
    """Return DICT entries with string ids replaced by their strings, leaving out the operators in `skip`."""
    resolved = []
    for op, operands in entries:
        if op in skip:
            continue
        count = _SID_OPERANDS.get(op, 0)
        sids = tuple(cffStandardStrings[sid] if sid < 391 else strings[sid - 391] for sid in operands[:count])
        resolved.append((op, sids, tuple(operands[count:])))
    return tuple(resolved)


def _read_charset(cff, pos, n):
    """Return the glyphs of a CID font whose CID is not their glyph id.

    With retained glyph ids a glyph's CID is its id, and content streams show it by that code. HarfBuzz may still
    append glyphs it pulled in (through variation sequences, say) under new ids: they keep their CID, and no content
    stream of the part shows them.
    """
    fmt, strays = cff[pos], set()
    if fmt not in (0, 1, 2):
        raise ValueError("unknown charset format")
    if fmt == 0:
        cids = struct.unpack_from(f">{n - 1}H", cff, pos + 1)
        strays.update(compress(range(1, n), map(ne, cids, range(1, n))))
        gid = n
    else:
        gid, i = 1, pos + 1
        while gid < n:
            first, left = struct.unpack_from(">HB" if fmt == 1 else ">HH", cff, i)
            if first != gid:
                strays.update(range(gid, gid + left + 1))
            gid += left + 1
            i += 2 + fmt
    if gid != n:
        raise ValueError("charset does not cover the glyphs")
    return strays


def _read_fdselect(cff, pos, n):
    """Return the font dict index of each glyph."""
    if cff[pos] == 0:
        return bytearray(cff[pos + 1 : pos + 1 + n])
    if cff[pos] != 3:
        raise ValueError("unknown FDSelect format")
    count = int.from_bytes(cff[pos + 1 : pos + 3], "big")
    ranges = cff[pos + 3 : pos + 5 + 3 * count]  # (first glyph: 2 bytes, font dict: 1 byte) each, then the end
    firsts = bytearray(2 * count + 2)
    firsts[0::2], firsts[1::2] = ranges[0::3], ranges[1::3]
    bounds = struct.unpack(f">{count + 1}H", firsts)
    fds = bytearray(n)
    for k, fd in enumerate(ranges[2::3]):
        fds[bounds[k] : bounds[k + 1]] = bytes([fd]) * (bounds[k + 1] - bounds[k])
    return fds


def _long_metrics(table, count, n):
    """Return an hmtx or vmtx table with an explicit (advance, side bearing) for each of the `n` glyphs."""
    rest = n - count
    if not 0 < count <= n or len(table) < 4 * count + 2 * rest:
        raise ValueError("metrics do not cover the glyphs")
    if not rest:
        return table
    # Glyphs past `count` repeat the last advance and list only their side bearing.
    full = bytearray(4 * n)
    full[: 4 * count] = table[: 4 * count]
    bearings = table[4 * count : 4 * count + 2 * rest]
    full[4 * count :: 4] = table[4 * count - 4 : 4 * count - 3] * rest
    full[4 * count + 1 :: 4] = table[4 * count - 3 : 4 * count - 2] * rest
    full[4 * count + 2 :: 4] = bearings[0::2]
    full[4 * count + 3 :: 4] = bearings[1::2]
    return bytes(full)


def _read_vorg(table):
    """Return a VORG table's default vertical origin and its per-glyph ones."""
    if table is None:
        return None, {}
    default, count = struct.unpack_from(">hH", table, 4)
    values = struct.unpack_from(">" + "Hh" * count, table, 8)
    return default, dict(zip(values[0::2], values[1::2]))


def _read_font_cmap(table):
    """Return the code point to glyph id mapping of a font's format 4 and 12 cmap subtables."""
    cmap = {}
    offsets = {struct.unpack_from(">I", table, 8 + 8 * i)[0] for i in range(int.from_bytes(table[2:4], "big"))}
    for off in sorted(offsets):
        fmt = int.from_bytes(table[off : off + 2], "big")
        if fmt == 4:
            segments = int.from_bytes(table[off + 6 : off + 8], "big") // 2
            ends = struct.unpack_from(f">{segments}H", table, off + 14)
            starts = struct.unpack_from(f">{segments}H", table, off + 16 + 2 * segments)
            deltas = struct.unpack_from(f">{segments}H", table, off + 16 + 4 * segments)
            range_pos = off + 16 + 6 * segments
            range_offsets = struct.unpack_from(f">{segments}H", table, range_pos)
            for k in range(segments):
                for code in range(starts[k], min(ends[k], 0xFFFE) + 1):
                    if range_offsets[k]:
                        at = range_pos + 2 * k + range_offsets[k] + 2 * (code - starts[k])
                        gid = int.from_bytes(table[at : at + 2], "big")
                        gid = gid and (gid + deltas[k]) & 0xFFFF
                    else:
                        gid = (code + deltas[k]) & 0xFFFF
                    if gid:
                        cmap.setdefault(code, gid)
        elif fmt == 12:
            count = int.from_bytes(table[off + 12 : off + 16], "big")
            groups = struct.unpack_from(f">{3 * count}I", table, off + 16)
            for first, last, gid in zip(groups[0::3], groups[1::3], groups[2::3]):
                for code in range(first, last + 1):
                    cmap.setdefault(code, gid + code - first)
    return cmap


# -- writing the merged font program -----------------------------------------------------------------------------------


def _write_program(merge):
    """Return the OpenType font program of `merge`."""
    base = merge.base
    # Glyph ids taken from other subsets, and the base's stray glyphs, blanked (None) as the charset becomes identity.
    patches = [(gid, program) for gid, program in merge.source.items() if program is not base]
    patches = sorted(patches + [(gid, None) for gid in base.strays - merge.source.keys()], key=lambda p: p[0])
    tables = dict(base.tables)
    tables["CFF "] = _write_cff(merge, patches)
    tables["hmtx"] = _patch_metrics(base.hmtx, [(gid, program and program.hmtx) for gid, program in patches])
    tables["hhea"] = tables["hhea"][:34] + struct.pack(">H", base.n) + tables["hhea"][36:]
    if base.vmtx:
        tables["vmtx"] = _patch_metrics(base.vmtx, [(gid, program and program.vmtx) for gid, program in patches])
        tables["vhea"] = tables["vhea"][:34] + struct.pack(">H", base.n) + tables["vhea"][36:]
    if "VORG" in tables:
        tables["VORG"] = _write_vorg(merge, patches)
    cmap = _font_cmap(merge, patches)
    tables["cmap"] = _write_font_cmap(cmap)
    if "OS/2" in tables:
        tables["OS/2"] = _patch_os2(merge, cmap)
    return _write_sfnt(tables)


def _patch_metrics(metrics, patches):
    """Return `metrics` with the entries of the glyphs in `patches` taken from their own tables, or zero."""
    out = bytearray(metrics)
    for gid, table in patches:
        out[4 * gid : 4 * gid + 4] = table[4 * gid : 4 * gid + 4] if table else bytes(4)
    return bytes(out)


def _write_vorg(merge, patches):
    """Return the VORG table of `merge`."""
    base = merge.base
    patched = dict(patches)
    origins = {gid: y for gid, y in base.vorg.items() if gid not in patched}
    for gid, program in patches:
        y = program.vorg.get(gid, program.vorg_default) if program else base.vorg_default
        if y != base.vorg_default:
            origins[gid] = y
    records = b"".join(struct.pack(">Hh", gid, y) for gid, y in sorted(origins.items()))
    return struct.pack(">HHhH", 1, 0, base.vorg_default, len(origins)) + records


def _font_cmap(merge, patches):
    """Return the merged program's cmap: the base's, and each patched glyph under the character its text is, if one."""
    cmap = _read_font_cmap(merge.base.tables["cmap"])
    for gid, _ in patches:
        chars = bytes.fromhex(merge.unicode.get(gid, b"").decode()).decode("utf-16-be", "replace")
        if len(chars) == 1:
            cmap.setdefault(ord(chars), gid)
    return cmap


def _patch_os2(merge, cmap):
    """Return the base's OS/2 table with the Unicode ranges of all subsets and the first and last characters."""
    os2 = bytearray(merge.base.tables["OS/2"])
    ranges = 0
    for program in merge.programs:
        ranges |= int.from_bytes(program.tables["OS/2"][42:58], "big")
    os2[42:58] = ranges.to_bytes(16, "big")
    if cmap:
        os2[64:68] = struct.pack(">HH", min(min(cmap), 0xFFFF), min(max(cmap), 0xFFFF))
    return bytes(os2)


def _runs(pairs):
    """Return [first code, last code, first glyph id] for each run of consecutive codes with consecutive glyphs."""
    runs = []
    for code, gid in pairs:
        if runs and code == runs[-1][1] + 1 and gid == runs[-1][2] + code - runs[-1][0]:
            runs[-1][1] = code
        else:
            runs.append([code, code, gid])
    return runs


def _write_font_cmap(cmap):
    """Return a cmap table of `cmap`: format 4 for the BMP, and format 12 when format 4 cannot hold it all."""
    pairs = sorted(cmap.items())
    runs = _runs([(code, gid) for code, gid in pairs if code < 0xFFFF])
    segments = [*runs[:_FORMAT4_MAX_RUNS], [0xFFFF, 0xFFFF, 0]]
    count = len(segments)
    selector = count.bit_length() - 1
    format4 = b"".join(
        [
            struct.pack(">7H", 4, 16 + 8 * count, 0, 2 * count, 2 << selector, selector, 2 * count - (2 << selector)),
            struct.pack(f">{count}H", *(last for _, last, _ in segments)),
            b"\0\0",
            struct.pack(f">{count}H", *(first for first, _, _ in segments)),
            struct.pack(f">{count}H", *((gid - first) & 0xFFFF for first, _, gid in segments)),
            bytes(2 * count),
        ]
    )
    subtables = [((0, 3), format4), ((3, 1), format4)]
    if len(runs) > _FORMAT4_MAX_RUNS or (pairs and pairs[-1][0] > 0xFFFE):
        groups = _runs(pairs)
        format12 = struct.pack(">HHIII", 12, 0, 16 + 12 * len(groups), 0, len(groups))
        format12 += b"".join(struct.pack(">III", *group) for group in groups)
        subtables = sorted([*subtables, ((0, 4), format12), ((3, 10), format12)])
    records, data, placed = [], b"", {}
    offset = 4 + 8 * len(subtables)
    for (platform, encoding), subtable in subtables:
        if subtable not in placed:
            placed[subtable] = offset + len(data)
            data += subtable
        records.append(struct.pack(">HHI", platform, encoding, placed[subtable]))
    return struct.pack(">HH", 0, len(subtables)) + b"".join(records) + data


def _write_cff(merge, patches):
    """Return the CFF table of `merge`: the base's, with the glyphs of `patches` and the font dicts they use."""
    base = merge.base
    strings = list(base.strings)
    sids = {**cffStandardStringMapping, **{s: 391 + i for i, s in reversed(list(enumerate(strings)))}}

    def sid(string):
        if string not in sids:
            sids[string] = 391 + len(strings)
            strings.append(string)
        return sids[string]

    def encode(entries):
        return b"".join(
            b"".join(_int(sid(s)) for s in names) + b"".join(_operand(v) for v in values) + _operator(op)
            for op, names, values in entries
        )

    # Font dicts are matched by content: the subsets number them differently.
    fds = list(base.fds)
    fd_index = {fd: i for i, fd in reversed(list(enumerate(fds)))}
    fdselect = bytearray(base.fdselect)
    for gid, program in patches:
        if program is None:
            continue
        fd = program.fds[program.fdselect[gid]]
        if fd not in fd_index:
            fd_index[fd] = len(fds)
            fds.append(fd)
        fdselect[gid] = fd_index[fd]
    if len(fds) > 255:
        raise ValueError("too many font dicts for FDSelect")
    fd_bodies = [encode(entries) for entries, _ in fds]
    top_body = encode(base.top)

    privates = list(dict.fromkeys(private for _, private in fds))
    charstrings = _write_charstrings(base, patches)
    fdselect_bytes = b"\0" + fdselect  # format 0, a byte per glyph: no run to find, and deflate packs it well
    string_index = _write_index([s.encode("latin-1") for s in strings])
    charset = struct.pack(">BHH", 2, 1, base.n - 2) if base.n > 1 else b"\0"  # CID = glyph id

    def layout(top_offsets, private_offsets):
        top = top_body + b"".join(_int(offset) + _operator(op) for op, offset in top_offsets)
        fd_dicts = [
            body + _int(len(private)) + _int(private_offsets[private]) + _operator(_PRIVATE)
            for body, (_, private) in zip(fd_bodies, fds)
        ]
        head = [base.header, _write_index([top]), string_index, b"\0\0", charset, fdselect_bytes, charstrings]
        return [*head, _write_index(fd_dicts), *privates]

    # Offsets are written as 5-byte integers, so a first layout with zeros gives every position.
    offset_ops = (_CHARSET, _FDSELECT, _CHARSTRINGS, _FDARRAY)
    parts = layout([(op, 0) for op in offset_ops], dict.fromkeys(privates, 0))
    positions = list(accumulate(map(len, parts), initial=0))
    top_offsets = list(zip(offset_ops, (positions[4], positions[5], positions[6], positions[7])))
    private_offsets = dict(zip(privates, positions[8:]))
    return b"".join(layout(top_offsets, private_offsets))


def _write_charstrings(base, patches):
    """Return the CharStrings INDEX of the base with the charstrings of `patches` in place of its own."""
    cff, (start, size, at, _) = base.cff, base.charstrings
    old = _widen(cff[start : start + (base.n + 1) * size], size)
    pieces, shifts, copied, done, shift = [], [], 1, 0, 0
    for gid, program in patches:
        begin, end = struct.unpack_from(">II", old, 4 * gid)
        charstring = program.charstring(gid) if program else b"\x0e"  # endchar
        pieces += [cff[at + copied : at + begin], charstring]
        # The offsets up to this glyph's start move by the shift so far; each as a 4-byte lane, biased by 2**31.
        shifts.append((shift + 0x80000000).to_bytes(4, "big") * (gid + 1 - done))
        shift += len(charstring) - (end - begin)
        copied, done = end, gid + 1
    pieces.append(cff[at + copied : at + int.from_bytes(old[-4:], "big")])
    shifts.append((shift + 0x80000000).to_bytes(4, "big") * (base.n + 1 - done))
    # Shift all offsets at once, as the 4-byte lanes of one integer: an offset plus its biased shift stays under 2**32
    # and the unbiased result at or above 0, so no lane carries into or borrows from the next.
    bias = b"\x80\0\0\0" * (base.n + 1)
    new = int.from_bytes(old, "big") + int.from_bytes(b"".join(shifts), "big") - int.from_bytes(bias, "big")
    size, packed = _narrow(new.to_bytes(len(old), "big"))
    return struct.pack(">HB", base.n, size) + packed + b"".join(pieces)


def _int(value):
    """Encode a DICT integer in 5 bytes, so that its length does not depend on its value."""
    return b"\x1d" + value.to_bytes(4, "big", signed=True)


def _operand(value):
    """Encode a DICT operand as parsed by `_parse_dict`."""
    return value if isinstance(value, bytes) else _int(value)


def _operator(op):
    """Encode a DICT operator."""
    return bytes([12, op - 1200]) if op >= 1200 else bytes([op])


def _checksum(data):
    """Return the OpenType checksum of `data`, whose length is a multiple of 4."""
    words = array("I", data)
    if sys.byteorder == "little":
        words.byteswap()
    return sum(words) & 0xFFFFFFFF


def _write_sfnt(tables):
    """Return an OpenType font of `tables`, with checksums."""
    tags = sorted(tables)
    selector = len(tags).bit_length() - 1
    header = struct.pack(">4sHHHH", b"OTTO", len(tags), 16 << selector, selector, 16 * len(tags) - (16 << selector))
    records, chunks, offset, total = [], [], 12 + 16 * len(tags), 0
    for tag in tags:
        data = bytes(tables[tag])
        if tag == "head":
            head = len(chunks)
            data = data[:8] + bytes(4) + data[12:]  # checkSumAdjustment counts as zero in every checksum
        padded = data + bytes(-len(data) % 4)
        checksum = _checksum(padded)
        total += checksum
        records.append(struct.pack(">4sIII", tag.encode("latin-1"), checksum, offset, len(data)))
        chunks.append(padded)
        offset += len(padded)
    directory = header + b"".join(records)
    adjustment = (0xB1B0AFBA - _checksum(directory) - total) & 0xFFFFFFFF
    chunks[head] = chunks[head][:8] + adjustment.to_bytes(4, "big") + chunks[head][12:]
    return b"".join([directory, *chunks])
