"""DOCX through docxtpl, with the same sandboxed environment and filters as the HTML.

The output is deterministic: docxtpl saves through zipfile, which stamps every member
with the current time; we stamp the zip entries and the core properties with the
document's issue date instead, so re-rendering an original gives the same bytes.

The package describes this document and nothing else: core properties name its title,
number, seller and buyer; the template's own thumbnail and app.xml (which name the
designer's Word, company or template) are dropped. Bundles whose DOCX originals were
archived before that cleaning (LEGACY_PACKAGES) keep the old behaviour, so their pinned
documents re-render byte for byte.

Speed (issue 16): the template package is parsed once per process and each render works
on a copy sharing the parts it only reads; docxtpl's XML patching and Jinja compilation
of each part are kept. docxtpl's post-processing is done where it changes something only
(resolve_listing on paragraphs with a tab or break, fix_tables' walk on tables whose grid
it refits), the rendered body is parsed in place in the document element rather than
moved into it, and python-docx's parts are zipped once, dated and cleaned. Each of these
gives docxtpl's bytes (tests/integration/test_docx_engine.py, tests/unit/test_docx_postprocessing.py)
and falls back to docxtpl's own code where it could not.
"""
from __future__ import annotations

import copy
import re
import zipfile
from datetime import UTC, datetime, time
from io import BytesIO
from typing import Any

from docx import Document
from docx.opc.pkgwriter import PackageWriter
from docx.oxml.ns import nsmap
from docx.oxml.parser import element_class_lookup
from docxtpl import DocxTemplate
from jinja2 import TemplateError
from lxml import etree

#: SHA-256 of the bundles rendered before the package cleaning: classic 1.0.0.
LEGACY_PACKAGES = frozenset({"8d809fea720b36f9d36f97cc07d9461c2b4f6dea0d4ab94e1fb6dd52b92ccda2"})

APP_XML = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           b'<Application>docsvc</Application></Properties>')
LANGUAGE_TAGS = {"fr": "fr-FR", "en": "en-GB"}


#: Distinct sources a DocxEngine keeps (Jinja compiled, XML patched by docxtpl): the body,
#: headers, footers, footnotes and core properties of one template are a handful; beyond
#: this, work without keeping.
MAX_KEPT = 64

#: Parts a render only reads (docxtpl writes the main document, headers, footers, footnotes
#: and core properties): shared by every render's copy of the parsed template.
READ_ONLY_PARTS = ("wordprocessingml.styles+xml", "ms-word.stylesWithEffects+xml", "wordprocessingml.settings+xml",
                   "wordprocessingml.webSettings+xml", "wordprocessingml.fontTable+xml", "officedocument.theme+xml",
                   "wordprocessingml.numbering+xml", "officedocument.customXmlProperties+xml",
                   "officedocument.extended-properties+xml")


def _read_only(part) -> bool:
    kind = part.content_type
    return (kind.startswith("image/") or kind == "application/xml"  # customXml items
            or kind.endswith(READ_ONLY_PARTS))


class DocxEngine:
    """One per bundle: the template package is parsed once; each render works on a copy
    of it in which the parts a render only reads (styles, theme, fonts, numbering...) are
    shared, not copied, and docxtpl's patched XML and its compiled Jinja are kept. The
    bytes are those of a fresh DocxTemplate per render (tests/integration/test_docx_engine.py)."""

    def __init__(self, template_bytes: bytes, env, bundle_sha256: str | None = None):
        self.template_bytes = template_bytes
        self.env = _compiling_once(env)
        self.legacy = bundle_sha256 in LEGACY_PACKAGES
        self._master: Any = None  # parsed at the first render: a broken DOCX fails there, named as the DOCX
        self.patched: dict[str, str] = {}
        self._shell: tuple[str, str, dict] | None = None
        self._shell_known = False

    @property
    def shell(self) -> tuple[str, str, dict] | None:
        """The template's document element serialized before and after its body, and the
        namespaces it declares: a rendered body parsed between them is in place (see
        _Template.fix_tables). None when the document element holds more than its body or
        declares a namespace twice or by default, where the body is moved in as docxtpl does."""
        if not self._shell_known:
            self._shell_known = True
            root = copy.deepcopy(self.master.element)
            namespaces = dict(root.nsmap)
            body = root.find(WORD + "body")
            if (len(root) == 1 and body is not None and root.text is None and body.tail is None
                    and None not in namespaces and len(set(namespaces.values())) == len(namespaces)):
                root.replace(body, etree.Element(WORD + "body"))
                text = etree.tostring(root, encoding="unicode")
                if text.count("<w:body/>") == 1:
                    before, after = text.split("<w:body/>")
                    self._shell = (before, after, namespaces)
        return self._shell

    @property
    def master(self):
        """The parsed template, never rendered into (renders run one at a time: Bundle's lock)."""
        if self._master is None:
            self._master = Document(BytesIO(self.template_bytes))
        return self._master

    def copy(self):
        """A python-docx Document of the template to render into, sharing the read-only parts."""
        master = self.master
        shared: dict[int, Any] = {id(part): part for part in master.part.package.iter_parts() if _read_only(part)}
        return copy.deepcopy(master, shared)

    def render(self, context: dict) -> bytes:
        template = _Template(self)
        template.render(context, jinja_env=self.env, autoescape=True)
        doc = context["doc"]
        issued = datetime.combine(doc["issue_date"], time(), tzinfo=UTC)
        title = f"{context['labels']['titles'][doc['type']]} {doc['number']}"
        props = template.docx.core_properties
        props.title = title
        props.author = doc["seller"]["name"]
        props.last_modified_by = f"docsvc {context['template']['name']} {context['template']['version']}"
        props.created = props.modified = issued
        props.revision = 1
        if not self.legacy:
            props.subject = f"{title} — {doc['seller']['name']} → {doc['buyer']['name']}"
            props.keywords = f"{context['labels']['titles'][doc['type']]}, {doc['number']}"
            props.language = LANGUAGE_TAGS.get(doc["language"], doc["language"])
            props.comments = props.category = props.content_status = props.identifier = ""
            props.version = ""
            props.last_printed = issued
        if template.pics_to_replace or template.crc_to_new_media or template.crc_to_new_embedded \
                or template.zipname_to_replace:  # docxtpl's replacements (never asked here): its save
            out = BytesIO()
            template.save(out)
            return repack(out.getvalue(), issued.timetuple()[:6], clean=not self.legacy)
        # docxtpl's save is python-docx's (OpcPackage.save), zipped once with the dates and
        # cleaning instead of zipped, unzipped and zipped again
        package = template.docx.part.package
        for part in package.parts:
            part.before_marshal()
        members: Any = _Members()  # what PackageWriter writes to: a PhysPkgWriter's write()
        PackageWriter._write_content_types_stream(members, package.parts)
        PackageWriter._write_pkg_rels(members, package.rels)
        PackageWriter._write_parts(members, package.parts)
        return write_package(members.members, issued.timetuple()[:6], clean=not self.legacy)


class _Template(DocxTemplate):
    """docxtpl on the engine's copy of the parsed template, its XML patching kept per source."""

    def __init__(self, engine: DocxEngine):
        super().__init__(BytesIO(engine.template_bytes))
        self.docx = engine.copy()
        self._patched = engine.patched
        self._engine = engine
        self._drawings = True  # until fix_tables has seen the body

    def patch_xml(self, src_xml):
        patched = self._patched.get(src_xml)
        if patched is None:
            patched = super().patch_xml(src_xml)  # regular expressions over the source only
            if len(self._patched) < MAX_KEPT:
                self._patched[src_xml] = patched
        return patched

    def render_xml_part(self, src_xml, part, context, jinja_env=None):
        """docxtpl's: a line break put before each paragraph of the source (for Jinja's line
        numbers), the source rendered, the breaks taken out, its escaped braces restored and
        the listing resolved. The breaks are taken out with str.replace, not docxtpl's
        regular expression with a replacement template per paragraph (14 000 in a 2000-line
        body). A render that fails is done again by docxtpl, which raises with its context."""
        if jinja_env is None:
            return super().render_xml_part(src_xml, part, context, jinja_env)
        source = PARAGRAPH_START.sub(r"\n<w:p\1", src_xml)
        try:
            self.current_rendering_part = part
            xml = jinja_env.from_string(source).render(context)
        except TemplateError:
            return super().render_xml_part(src_xml, part, context, jinja_env)
        # r"\n<w:p([ >])" -> r"<w:p\1": neither match can overlap or make the other
        xml = xml.replace("\n<w:p ", "<w:p ").replace("\n<w:p>", "<w:p>")
        if "{" in xml or "}" in xml:  # each of them has one; a one-character search is the fast one
            xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        return self.resolve_listing(xml)

    def resolve_listing(self, xml):
        """docxtpl's, on the paragraphs that have a tab, line or page break to resolve only:
        its regular expressions leave any other paragraph as it is, and a rendered part
        without any such character (the usual case: they come from the data) as it is."""
        if not any(ch in xml for ch in LISTING_CHARS):
            return xml
        resolve = super().resolve_listing  # on one paragraph: the match it would have made

        def paragraph(match):
            text = match.group(0)
            return resolve(text) if any(ch in text for ch in LISTING_CHARS) else text
        return PARAGRAPH.sub(paragraph, xml)

    def fix_tables(self, xml):
        """docxtpl's: the body parsed, and each table's grid fitted to the cells of its rows
        (its nested tables' rows included) when they outnumber or underfill it. Each table's
        grid depends on that table alone, so docxtpl's walk over every row and cell runs only
        on the tables that need it (_grids_to_fit tells them in one walk over the body): the
        classic layout tables that hold nested ones, not the invoice lines'."""
        self._drawings = "docPr" in xml  # any wp:docPr element is named so in the text
        tree = self._in_place(xml)
        if tree is None:
            tree = etree.fromstring(xml, parser=etree.XMLParser(recover=True))
        ns = "{" + tree.nsmap["w"] + "}"
        for table, grid in _grids_to_fit(tree, ns):
            # docxtpl's own fix on this table alone (its first table is itself); its grid
            # then replaces this one (a table's rows and cells are left as they are)
            fitted = super().fix_tables(etree.tostring(table, encoding="unicode", with_tail=False))
            table.replace(grid, fitted.find(ns + "tblGrid"))
        return tree

    def _in_place(self, xml):
        """The rendered body parsed inside a new document element like the template's, ready
        to be the document part's element: docxtpl parses the body alone, then moves it into
        the document, where lxml drops the body's namespace declarations that the document
        element already makes and walks every node of the body to rebind it (a fifth of a
        long DOCX's time). Parsed in place, the body holds the same elements, bound to the
        same declarations, and serializes to the same bytes, when: the body declares only
        what the document element declares (prefix and name alike, each once there), has no
        attribute, nothing below it declares a namespace, and the whole parses without
        recovery. Else None, and docxtpl's way."""
        shell = self._engine.shell
        end = xml.find(">")
        if shell is None or not xml.startswith("<w:body") or end < 0 or xml[end - 1] == "/":
            return None
        before, after, namespaces = shell
        try:
            start = etree.fromstring(xml[:end + 1] + "</w:body>")
        except etree.XMLSyntaxError:
            return None
        if (start.attrib or any(namespaces.get(prefix) != name for prefix, name in start.nsmap.items())
                or xml.find("xmlns", end) >= 0):
            return None
        parser = etree.XMLParser()  # as docxtpl's but failing where it would recover
        parser.set_element_class_lookup(element_class_lookup)  # python-docx's element classes
        try:
            # UTF-8 bytes (no declaration: UTF-8 is the default) parse faster than a str
            document = etree.fromstring((before + "<w:body>" + xml[end + 1:] + after).encode(), parser=parser)
        except etree.XMLSyntaxError:
            return None
        return document.find(WORD + "body")

    def fix_docpr_ids(self, tree):
        """docxtpl's: the drawings renumbered in document order; none to look for (a walk
        over the whole body) when the rendered XML has no docPr. A body parsed in place has
        python-docx's element classes, whose xpath takes no namespaces: lxml's is called."""
        if not self._drawings:
            return
        if tree.getparent() is None:
            return super().fix_docpr_ids(tree)
        for drawing in etree.ElementBase.xpath(tree, "//wp:docPr", namespaces=nsmap):
            self.docx_ids_index += 1
            drawing.attrib["id"] = str(self.docx_ids_index)

    def map_tree(self, tree):
        """docxtpl's (the body moved into the document element), unless the body was parsed
        in place: then its document element becomes the document part's."""
        root = tree.getparent()
        if root is None:
            return super().map_tree(tree)
        self.docx._element = self.docx.part._element = root


WORD = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

#: The characters docxtpl's resolve_listing turns into Word markup inside a paragraph's text
#: (tab, new paragraph, line break, page break); its paragraphs, as it finds them.
LISTING_CHARS = ("\t", "\a", "\n", "\f")
PARAGRAPH = re.compile(r"<w:p(?: [^>]*)?>.*?</w:p>", re.DOTALL)
PARAGRAPH_START = re.compile(r"<w:p([ >])")

def _grids_to_fit(tree, ns: str) -> list[tuple[Any, Any]]:
    """The tables of `tree` whose grid docxtpl's fix_tables may change, each with its
    first grid (None: docxtpl fails on it), in document order; found in one walk over the
    body, in C, that stops at tables, rows and spans only.

    docxtpl leaves a table's grid as it is when no row (its nested tables' rows included)
    has more cells than the grid has columns, and some row spans them all (_spans_all).
    A table is also handed to docxtpl when it has no grid or more than one, or any span
    below it is not a plain number int() reads (docxtpl then raises, or reads it its way)."""
    table_tag, row_tag, cell_tag, span_tag = ns + "tbl", ns + "tr", ns + "tc", ns + "gridSpan"
    widest: dict[Any, int] = {}  # each table: the most cells in one of its rows, nested included
    odd: set[Any] = set()  # tables with a span that is not a plain number
    for element in tree.iter(table_tag, row_tag, span_tag):
        if element.tag == row_tag:
            cells = 0
            for _ in element.iterchildren(cell_tag):
                cells += 1
            for table in element.iterancestors(table_tag):  # each met before its rows
                if cells > widest[table]:
                    widest[table] = cells
        elif element.tag == table_tag:
            widest[element] = 0
        else:
            value = element.get(ns + "val")
            if not (value and len(value) <= 9 and value.isascii() and value.isdigit()):
                odd.update(element.iterancestors(table_tag))
    to_fit = []
    for table, cells in widest.items():
        grids = table.findall(ns + "tblGrid")
        if len(grids) == 1 and table not in odd:
            columns = len(grids[0].findall(ns + "gridCol"))
            if cells <= columns and _spans_all(table, columns, ns):
                continue
        to_fit.append((table, grids[0] if grids else None))
    return to_fit


def _spans_all(table, columns: int, ns: str) -> bool:
    """Some row of `table` spans `columns` columns, its cells counted as docxtpl counts them
    (a cell spans its first properties' first gridSpan, else 1): else fix_tables narrows
    the grid. Usually the first row does."""
    if columns == 0:
        return True
    for row in table.iter(ns + "tr"):
        spanned = 0
        for cell in row.findall(ns + "tc"):
            properties = cell.find(ns + "tcPr")
            span = None if properties is None else properties.find(ns + "gridSpan")
            spanned += 1 if span is None else int(span.get(ns + "val"))
        if spanned >= columns:
            return True
    return False


def _compiling_once(env):
    """`env`, whose from_string compiles each distinct source once.

    docxtpl compiles the template's XML parts (patched into Jinja) with from_string on every
    render: most of a small DOCX's time. The patched source of a part depends only on the
    template, so the compiled template is kept, keyed by the source and the autoescape
    setting docxtpl sets first. `env` must be this engine's own (Bundle makes one)."""
    compile_source = env.from_string
    compiled: dict[tuple[bool, str], Any] = {}

    def from_string(source, globals=None, template_class=None):
        if globals is not None or template_class is not None or not isinstance(source, str):
            return compile_source(source, globals, template_class)
        key = (bool(env.autoescape), source)
        template = compiled.get(key)
        if template is None:
            template = compile_source(source)
            if len(compiled) < MAX_KEPT:
                compiled[key] = template
        return template

    env.from_string = from_string
    env.compiled_sources = compiled  # for the tests: what is kept
    return env


def repack(data: bytes, date_time: tuple, clean: bool = True) -> bytes:
    """The package python-docx saved, rewritten once: every member dated `date_time` (zip
    dates start in 1980) and, with `clean`, without the template's thumbnail and with an
    app.xml that names only docsvc."""
    with zipfile.ZipFile(BytesIO(data)) as source:
        return write_package(((info.filename, source.read(info.filename), info.external_attr)
                              for info in source.infolist()), date_time, clean)


#: The mode python-docx's members get: ZipFile.writestr's for a member named by a string.
MEMBER_ATTR = 0o600 << 16


def write_package(members, date_time: tuple, clean: bool = True) -> bytes:
    """The zip of `members` (name, bytes, external attributes), in their order, each dated
    `date_time` and deflated; with `clean`, the template's thumbnail and its references
    dropped and app.xml naming only docsvc."""
    date_time = max(tuple(date_time), (1980, 1, 1, 0, 0, 0))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, body, external_attr in members:
            if clean:
                if name.startswith("docProps/thumbnail"):
                    continue
                if name == "_rels/.rels":
                    body = re.sub(rb'<Relationship [^>]*Target="/?docProps/thumbnail[^"]*"\s*/>', b"", body)
                elif name == "[Content_Types].xml":
                    body = re.sub(rb'<Override PartName="/docProps/thumbnail[^"]*"[^>]*/>', b"", body)
                elif name == "docProps/app.xml":
                    body = APP_XML
            stamped = zipfile.ZipInfo(name, date_time=date_time)
            stamped.compress_type, stamped.external_attr = zipfile.ZIP_DEFLATED, external_attr
            target.writestr(stamped, body)
    return out.getvalue()


class _Members:
    """What python-docx's PackageWriter writes, kept as (name, bytes, attributes) instead of
    zipped: write_package zips it once, dated and cleaned."""

    def __init__(self) -> None:
        self.members: list[tuple[str, bytes, int]] = []

    def write(self, pack_uri, blob) -> None:
        self.members.append((pack_uri.membername, blob, MEMBER_ATTR))
