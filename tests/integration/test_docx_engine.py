"""The DOCX template is parsed once per process (issue 16): the engine renders into a copy
of the parsed package and keeps docxtpl's patched XML and compiled Jinja, and its bytes
are those of the way DOCX were rendered before, a fresh DocxTemplate per document."""
from __future__ import annotations

import re
import zipfile
from datetime import UTC, datetime, time
from io import BytesIO
from unittest import mock

import pytest
from babel.numbers import format_currency, format_decimal
from docxtpl import DocxTemplate

from docsvc.billing.model import as_plain
from docsvc.rendering import TemplateRegistry, docx, environment
from docsvc.rendering.bundle import Bundle
from docsvc.rendering.environment import make_environment
from docsvc.usecases.checking import validate
from tests.conftest import FIXTURES, ROOT, load_fixture

VERSIONS = ["1.0.0", "1.2.0", "1.3.0", "1.5.0", "1.7.0", "1.7.1", "1.7.2", "1.7.3"]
ALL = sorted(p.stem for p in FIXTURES.glob("*.json") if p.stem != "cycle")


def babel_format(locale: str, currency: str | None = None):
    """The filters' figures as they were up to issue 16: Babel called for each one."""
    def formatted(value, decimal_quantization=True):
        if currency is None:
            return format_decimal(value, locale=locale, decimal_quantization=decimal_quantization)
        return format_currency(value, currency, locale=locale, decimal_quantization=decimal_quantization)
    return formatted


def before(bundle: Bundle, context: dict) -> bytes:
    """DocxEngine.render as it was up to issue 16: the package loaded from its bytes, the
    parts patched and compiled, the figures formatted by Babel, on every render; then the
    zip cleaned, then restamped."""
    template = DocxTemplate(BytesIO((bundle.path / "document.docx").read_bytes()))
    with mock.patch.object(environment, "number_format", babel_format):
        template.render(context, jinja_env=make_environment(autoescape=False), autoescape=True)
    doc = context["doc"]
    issued = datetime.combine(doc["issue_date"], time(), tzinfo=UTC)
    title = f"{context['labels']['titles'][doc['type']]} {doc['number']}"
    props = template.docx.core_properties
    props.title = title
    props.author = doc["seller"]["name"]
    props.last_modified_by = f"docsvc {context['template']['name']} {context['template']['version']}"
    props.created = props.modified = issued
    props.revision = 1
    legacy = bundle.sha256 in docx.LEGACY_PACKAGES
    if not legacy:
        props.subject = f"{title} — {doc['seller']['name']} → {doc['buyer']['name']}"
        props.keywords = f"{context['labels']['titles'][doc['type']]}, {doc['number']}"
        props.language = docx.LANGUAGE_TAGS.get(doc["language"], doc["language"])
        props.comments = props.category = props.content_status = props.identifier = ""
        props.version = ""
        props.last_printed = issued
    out = BytesIO()
    template.save(out)
    data = out.getvalue()
    if not legacy:  # the old clean_package: a zip of its own
        data = rezip(data, cleaned)
    date_time = max(issued.timetuple()[:6], (1980, 1, 1, 0, 0, 0))

    def stamped(info, body):  # the old restamp
        new = zipfile.ZipInfo(info.filename, date_time=date_time)
        new.compress_type, new.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
        return new, body
    return rezip(data, stamped)


def cleaned(info, body):
    name = info.filename
    if name.startswith("docProps/thumbnail"):
        return info, None
    if name == "_rels/.rels":
        body = re.sub(rb'<Relationship [^>]*Target="/?docProps/thumbnail[^"]*"\s*/>', b"", body)
    elif name == "[Content_Types].xml":
        body = re.sub(rb'<Override PartName="/docProps/thumbnail[^"]*"[^>]*/>', b"", body)
    elif name == "docProps/app.xml":
        body = docx.APP_XML
    return info, body


def rezip(data: bytes, member) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            info, body = member(info, source.read(info.filename))
            if body is not None:
                target.writestr(info, body)
    return out.getvalue()


@pytest.fixture(scope="module")
def templates():
    return TemplateRegistry([ROOT / "templates"])


def contexts(bundle: Bundle) -> list[tuple[str, dict]]:
    out = []
    for name in ALL:
        for language in bundle.languages:
            raw = {**load_fixture(name), "language": language,
                   "template": {"name": bundle.name, "version": bundle.version}}
            out.append((f"{name} ({language})", bundle.context(as_plain(validate(raw).document))))
    return out


@pytest.mark.parametrize("version", VERSIONS)
def test_every_fixture_has_the_bytes_it_had_before_in_any_order(templates, version):
    bundle = templates.get("classic", version)
    rendered = contexts(bundle)
    assert len(rendered) >= len(ALL)
    assert bundle._docx.shell is not None  # the body is parsed in place (DocxEngine.shell)
    # one engine, every fixture in turn, then again backwards: a render leaves nothing in
    # the parsed template or the kept sources that changes the next one
    for label, context in rendered + rendered[::-1]:
        assert bundle._docx.render(context) == before(bundle, context), label


def test_the_template_is_parsed_once_and_its_parts_compiled_once(templates, monkeypatch):
    bundle = templates.get("classic", "1.3.0")
    (_, first), (_, second) = contexts(bundle)[:2]
    engine = docx.DocxEngine((bundle.path / "document.docx").read_bytes(), make_environment(autoescape=False),
                             bundle.sha256)
    engine.render(first)
    kept = dict(engine.env.compiled_sources)
    patched = dict(engine.patched)
    assert len(kept) >= 3 and len(patched) >= 3  # at least the body, a header and a footer

    parses, compiles = [], []
    monkeypatch.setattr(docx, "Document", lambda *a: parses.append(a))
    compile_source = engine.env.compile
    monkeypatch.setattr(engine.env, "compile", lambda *a, **k: compiles.append(a) or compile_source(*a, **k))
    data = engine.render(second)
    assert parses == [] and compiles == []
    assert engine.env.compiled_sources == kept and engine.patched == patched
    assert data == before(bundle, second)


def test_a_render_shares_only_the_parts_it_never_writes(templates):
    engine = templates.get("classic", "1.2.0")._docx
    copy = engine.copy()
    master_parts = {p.partname: p for p in engine.master.part.package.iter_parts()}
    shared = {p.partname for p in copy.part.package.iter_parts() if p is master_parts[p.partname]}
    assert "/word/styles.xml" in shared and "/word/stylesWithEffects.xml" in shared
    written = {"/word/document.xml", "/docProps/core.xml", "/word/header1.xml", "/word/footer1.xml"}
    assert written & set(master_parts) == written
    assert not shared & written


@pytest.mark.parametrize("version", VERSIONS)
def test_breaks_and_tabs_in_the_data_have_the_bytes_they_had_before(templates, version):
    # docxtpl turns a new line into <w:br/> and a tab into <w:tab/>: the engine resolves only
    # the paragraphs that have one, with docxtpl's own code
    bundle = templates.get("classic", version)
    raw = {**load_fixture("invoice"), "template": {"name": bundle.name, "version": bundle.version}}
    raw["lines"][0]["description"] = "Dépose de l'existant\nPose\tet raccordement\n\nNettoyage"
    raw["notes"] = ["Première observation\nsur deux lignes", "Tab\tulée"]
    context = bundle.context(as_plain(validate(raw).document))
    data = bundle._docx.render(context)
    with zipfile.ZipFile(BytesIO(data)) as package:
        body = package.read("word/document.xml").decode()
    assert "<w:br/>" in body and "<w:tab/>" in body and "\n" not in body[body.index("<w:body"):]
    assert data == before(bundle, context)
