"""Take out of a template's document.docx the styles nothing uses (issue 16, item 2).

A DOCX saved from a blank Word document carries every built-in style (164 in classic's
styles.xml, 350 KB) and, for Word 2010, a second copy of them (stylesWithEffects.xml,
440 KB): docsvc copies and compresses both into every DOCX it renders. This keeps the
styles the document, its headers, footers and numbering name (pStyle, rStyle, tblStyle,
numStyleLink, styleLink), those they are based on, linked to or followed by, and each
type's default style; it drops stylesWithEffects.xml (Word 2013 and later, and
LibreOffice, read styles.xml only) with its relationship and content type. Every other
part keeps its bytes, the entries their order and dates.

Usage: python tools/lean_docx.py templates/classic/1.7.0/document.docx [more.docx ...]
(in place). Run once, when a version is made: a shipped version's DOCX never changes.
"""
from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NAMED = re.compile(rb'<w:(?:pStyle|rStyle|tblStyle|numStyleLink|styleLink) w:val="([^"]+)"')
EFFECTS = "word/stylesWithEffects.xml"


def used_styles(parts: dict[str, bytes]) -> set[str]:
    named: set[str] = set()
    for name, data in parts.items():
        if name.startswith("word/") and name.endswith(".xml") and "styles" not in name.lower():
            named |= {m.decode() for m in NAMED.findall(data)}
    return named


def lean_styles(styles: bytes, named: set[str]) -> bytes:
    root = etree.fromstring(styles)
    by_id = {s.get(f"{{{W}}}styleId"): s for s in root.iter(f"{{{W}}}style")}
    keep = set(named) | {i for i, s in by_id.items() if s.get(f"{{{W}}}default") == "1"}
    todo = list(keep)
    while todo:  # what a kept style is based on, linked to or followed by
        style = by_id.get(todo.pop())
        if style is None:
            continue
        for tag in ("basedOn", "link", "next"):
            ref = style.find(f"{{{W}}}{tag}")
            if ref is not None and ref.get(f"{{{W}}}val") not in keep:
                keep.add(ref.get(f"{{{W}}}val"))
                todo.append(ref.get(f"{{{W}}}val"))
    for style_id, style in by_id.items():
        if style_id not in keep:
            root.remove(style)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def lean(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        infos = source.infolist()
        parts = {i.filename: source.read(i.filename) for i in infos}
    parts["word/styles.xml"] = lean_styles(parts["word/styles.xml"], used_styles(parts))
    if EFFECTS in parts:
        del parts[EFFECTS]
        parts["word/_rels/document.xml.rels"] = re.sub(
            rb'<Relationship [^>]*Target="stylesWithEffects\.xml"/>', b"", parts["word/_rels/document.xml.rels"])
        parts["[Content_Types].xml"] = re.sub(
            rb'<Override PartName="/word/stylesWithEffects\.xml"[^>]*/>', b"", parts["[Content_Types].xml"])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in infos:
            if info.filename in parts:
                entry = zipfile.ZipInfo(info.filename, info.date_time)
                entry.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(entry, parts[info.filename])
    return out.getvalue()


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        path = Path(arg)
        before = path.read_bytes()
        after = lean(before)
        path.write_bytes(after)
        print(f"{path}: {len(before)} -> {len(after)} bytes")
