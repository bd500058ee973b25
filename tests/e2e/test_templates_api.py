"""Template designers: publish (with every check), preview, pinning, and the attacks refused."""
import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import pytest
from docx import Document as Docx

from docsvc.einvoice.facturx import read_back
from docsvc.rendering.intake import pack
from tests.conftest import ROOT, quote_example
from tests.e2e.test_api import post

CLASSIC = ROOT / "templates" / "classic" / "1.0.0"
V160 = ROOT / "bundles" / "classic" / "1.8.0"


def bundle_copy(tmp_path, version="2.0.0", source=CLASSIC) -> Path:
    folder = tmp_path / "classic" / version
    shutil.copytree(source, folder)
    toml = folder / "template.toml"
    toml.write_text(toml.read_text().replace(f'version = "{source.name}"', f'version = "{version}"'))
    return folder


def publish(client, data, name="classic"):
    return client.post(f"/v1/templates/{name}/versions", data=data, content_type="application/zip")


def edit(folder: Path, file: str, old: str, new: str) -> None:
    path = folder / file
    text = path.read_text()
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1))


def test_publish_then_pinning_keeps_old_documents_identical(client, tmp_path, archived):
    pinned = quote_example()
    pinned["template"] = {"name": "classic", "version": "1.0.0"}
    first = post(client, pinned).json
    assert first["template"]["version"] == "1.0.0"
    original = client.get(first["files"][0]["url"]).data

    r = publish(client, pack(V160))
    assert r.status_code == 201, r.json
    assert r.headers["Location"] == "/v1/templates/classic/1.8.0"
    manifest = r.json
    assert manifest["version"] == "1.8.0" and len(manifest["sha256"]) == 64
    assert client.get("/v1/templates/classic").json["latest"] == "1.8.0"
    assert client.get("/v1/templates/classic/1.8.0").json["source"] == "published"
    assert client.get("/v1/templates/classic/1.0.0").json["source"] == "shipped"
    # versions are immutable
    assert publish(client, pack(V160)).status_code == 409
    assert publish(client, pack(bundle_copy(tmp_path, "1.0.0"))).status_code == 409

    # unpinned documents take the latest; the pinned one re-renders byte for byte
    latest = quote_example()
    latest["number"] = "F-2026-0008"
    issued = post(client, latest).json
    assert issued["template"] == {"name": "classic", "version": "1.8.0", "sha256": manifest["sha256"]}
    again = client.post("/v1/templates/classic/1.0.0/preview?format=pdf", json=pinned)
    assert again.data == original
    assert hashlib.sha256(again.data).hexdigest() == first["files"][0]["sha256"]
    newer = client.post("/v1/templates/classic/1.8.0/preview?format=pdf", json=pinned)
    assert newer.data != original


def test_preview_archives_nothing(client, archived):
    before = archived()
    r = client.post("/v1/templates/classic/1.0.0/preview?format=pdf", json={"fixture": "credit_note"})
    assert r.status_code == 200 and r.data.startswith(b"%PDF-")
    r = client.post("/v1/templates/classic/1.0.0/preview?format=docx", json=quote_example())
    assert Docx(io.BytesIO(r.data)).paragraphs  # a real DOCX
    # a Factur-X preview is what an issue would archive: the PDF/A-3b with its CII inside
    r = client.post("/v1/templates/classic/1.7.0/preview?format=facturx", json=quote_example())
    name, xml, level = read_back(r.data)
    assert r.status_code == 200 and name == "factur-x.xml" and b"<rsm:CrossIndustryInvoice" in xml
    r = client.post("/v1/templates/classic/1.0.0/preview?format=pdf", json={"fixture": "nope"})
    assert r.status_code == 422 and "fixture" in r.json["errors"]
    bad = quote_example()
    bad["lines"][0]["unit_price"] = "-1"
    r = client.post("/v1/templates/classic/1.0.0/preview?format=pdf", json=bad)
    assert r.status_code == 422 and "lines.0.unit_price" in r.json["errors"]
    assert client.post("/v1/templates/classic/9.9.9/preview", json=quote_example()).status_code == 404
    assert archived() == before


@pytest.mark.parametrize("file, old, new, where, message", [
    ("template.toml", 'version = "2.0.0"', 'version = "2.0"', "template.toml", "not a semantic version"),
    ("template.toml", 'formats = ["pdf", "docx"]', 'formats = ["pdf", "odt"]', "template.toml", "formats"),
    ("document.html", "{% endif %}", "{% endfi %}", "document.html:", "Encountered unknown tag 'endfi'"),
    ("document.html", "{{ doc.number }}", "{{ doc.numbr }}", "document.html:", "numbr"),
    ("document.html", "<body>", '<body><img src="assets/logo.png">', "document.html:", "not in the bundle"),
    ("document.html", "<body>", '<body><img src="file:///etc/passwd">', "document.html:", "only the bundle"),
    ("style.css", 'html { font-family: "Inter";', 'html { font-family: "Comic Neue Pro";', "style.css:",
     "Comic Neue Pro"),
    ("labels/fr.toml", "[titles]", "[titles", "labels/fr.toml", "Expected"),
])
def test_a_broken_bundle_is_422_naming_file_and_line(client, tmp_path, file, old, new, where, message):
    folder = bundle_copy(tmp_path)
    edit(folder, file, old, new)
    r = publish(client, pack(folder))
    assert r.status_code == 422, r.json
    hits = [(k, m) for k, ms in r.json["errors"].items() for m in ms if k.startswith(where) and message in m]
    assert hits, r.json["errors"]
    if where.endswith(":"):  # a line number is given
        assert hits[0][0].split(":")[1].isdigit()
    assert "2.0.0" not in client.get("/v1/templates/classic").json["latest"]


def _docx_with(folder: Path, *runs: str) -> None:
    doc = Docx(folder / "document.docx")
    paragraph = doc.add_paragraph()
    for text in runs:
        paragraph.add_run(text)
    doc.save(folder / "document.docx")


def test_docx_tags_split_by_word_are_reported_with_the_paragraph(client, tmp_path):
    folder = bundle_copy(tmp_path)
    _docx_with(folder, "Total : {{ doc.totals.", "amount_due | money }}")
    r = publish(client, pack(folder))
    assert r.status_code == 422
    messages = [m for ms in r.json["errors"].values() for m in ms]
    assert any("split across Word runs" in m and "Total : {{ doc.totals.amount_due | money }}" in m for m in messages)


def test_docx_curly_quotes_are_reported(client, tmp_path):
    folder = bundle_copy(tmp_path)
    _docx_with(folder, "{{ doc.number if doc.type == \u201cinvoice\u201d }}")
    r = publish(client, pack(folder))
    assert r.status_code == 422
    assert any("curly quotes" in m for ms in r.json["errors"].values() for m in ms)


def _zip(entries: list[tuple[str, bytes]], symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (0o120777 << 16)
            z.writestr(info, "/etc/passwd")
    return buffer.getvalue()


@pytest.mark.parametrize("data, message", [
    (_zip([("/etc/cron.d/x", b"x"), ("template.toml", b"")]), "absolute path"),
    (_zip([("../../outside.txt", b"x"), ("template.toml", b"")]), "leaves the bundle"),
    (_zip([(f"assets/{i}.txt", b"x") for i in range(201)]), "at most 200"),
    (_zip([("assets/bomb.txt", b"0" * 5_000_000), ("template.toml", b"")]), "compression ratio"),
    (_zip([("template.toml", b"")], symlink="assets/link"), "not a regular file"),
    (b"PK\x03\x04 not really a zip", "not a zip"),
])
def test_zip_attacks_are_refused(client, archived, data, message):
    r = publish(client, data)
    assert r.status_code == 422
    assert any(message in m for ms in r.json["errors"].values() for m in ms), r.json
    assert archived() == {}


def test_publish_needs_a_zip_and_a_good_name(client, tmp_path):
    assert client.post("/v1/templates/classic/versions", data="{}", content_type="application/json").status_code == 415
    r = publish(client, pack(bundle_copy(tmp_path)), name="Bad Name")
    assert r.status_code in (404, 422)


def test_no_fixture_to_render_means_no_publish(tmp_path, archived):
    """The image once ran without its fixtures: a bundle with {{ doc.nonexistent.attr }} was
    published unchecked, and every issue on it then failed. Nothing rendered, nothing published."""
    import json

    from docsvc.app import create_app
    from docsvc.settings import Settings

    only_broken = tmp_path / "fixtures"
    only_broken.mkdir()
    (only_broken / "not_a_payload.json").write_text(json.dumps({"type": "invoice"}))  # fails validation
    settings = Settings.from_env({"DOCSVC_ARCHIVE_URL": f"file://{tmp_path / 'archive'}", "DOCSVC_AUTH": "disabled",
                                  "DOCSVC_FIXTURES_DIR": str(only_broken)})
    client = create_app(settings).test_client()
    folder = bundle_copy(tmp_path)
    edit(folder, "document.html", "{{ doc.number }}", "{{ doc.nonexistent.attr }}")
    r = publish(client, pack(folder))
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert r.json["errors"]["fixtures"] == [
        "no fixture to render the bundle with (DOCSVC_FIXTURES_DIR has none for its languages): a version is "
        "published only once fixtures render through it"]
    assert "2.0.0" not in [v["version"] for v in client.get("/v1/templates/classic").json["versions"]]
    assert archived() == {}
    # an empty fixtures folder can't even be configured
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(Exception, match="DOCSVC_FIXTURES_DIR: no \\*.json fixture"):
        Settings.from_env({"DOCSVC_FIXTURES_DIR": str(empty)})
