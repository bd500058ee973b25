"""A template bundle is untrusted: what an attacker's review sent (issue 16's session) is a
problem naming the file, never a 500, and a template can't compute without bound."""
import io
import zipfile

import pytest
from jinja2.exceptions import SecurityError

from docsvc.rendering.checks import check_manifest
from docsvc.rendering.environment import make_environment
from docsvc.rendering.intake import BundleRejected, unpack


def zipped(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as z:
        for name, body in members.items():
            z.writestr(name, body)
    return buffer.getvalue()


def refused(data: bytes, tmp_path) -> list[tuple[str, str]]:
    with pytest.raises(BundleRejected) as info:
        unpack(data, tmp_path / "bundle")
    return [(p["file"], p["message"]) for p in info.value.problems]


def test_a_bad_crc_is_a_problem(tmp_path):
    data = bytearray(zipped({"template.toml": b"x" * 50, "assets/a.bin": b"abcdefgh" * 8}, zipfile.ZIP_STORED))
    data[data.index(b"abcdefgh") + 3] ^= 0xFF  # one byte of the stored file changed: its CRC fails
    assert refused(bytes(data), tmp_path) == [("assets/a.bin", "unreadable: Bad CRC-32 for file 'assets/a.bin'")]


def test_an_unknown_compression_method_is_a_problem(tmp_path):
    data = bytearray(zipped({"template.toml": b"name = 'x'"}, zipfile.ZIP_STORED))
    for header in (b"PK\x03\x04", b"PK\x01\x02"):  # the method field in the local and central headers
        at = data.index(header)
        offset = 8 if header == b"PK\x03\x04" else 10
        data[at + offset:at + offset + 2] = (99).to_bytes(2, "little")
    assert refused(bytes(data), tmp_path) == [("template.toml", "compression method 99: store or deflate only")]


def test_long_and_deep_paths_and_a_file_that_is_a_folder_too(tmp_path):
    long = "assets/" + "n" * 250
    problems = refused(zipped({"template.toml": b"", long: b"1", "assets/" + "d/" * 20 + "x": b"1"}), tmp_path)
    assert [m for _, m in problems] == ["path longer than 200 characters or deeper than 12 folders"] * 2
    clash = refused(zipped({"template.toml": b"", "assets/clash": b"1", "assets/clash/y.txt": b"2"}), tmp_path)
    assert clash[0][0] == "assets/clash/y.txt" and clash[0][1].startswith("can't be unpacked")


def test_a_manifest_nested_past_pythons_limit_is_a_problem(tmp_path):
    (tmp_path / "template.toml").write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    assert check_manifest(tmp_path) == [{"file": "template.toml", "line": None,
                                         "message": "nested deeper than Python reads"}]
    (tmp_path / "template.toml").write_bytes(b"name = '\xff'\n")
    assert check_manifest(tmp_path)[0]["message"] == "not UTF-8 text"


@pytest.mark.parametrize("source, message", [
    ("{{ 9 ** (9 ** 9) > 1 }}", "a template raises to a power of at most 64 (here 387420489)"),
    ('{{ "x" * 10 ** 9 }}', "a template repeats text to at most 100000 characters"),
    ("{{ [1] * 200000 }}", "a template repeats text to at most 100000 characters"),
])
def test_a_template_cannot_compute_without_bound(source, message):
    with pytest.raises(SecurityError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_environment().from_string(source).render()


def test_bounded_arithmetic_still_works():
    assert make_environment().from_string('{{ 2 ** 10 }} {{ "ab" * 3 }} {{ 3 * 4 }} {{ 1.5 * 2 }}').render() == (
        "1024 ababab 12 3.0")
