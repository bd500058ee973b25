"""A template's HTML parsed by lexbor (selectolax, in C) into the very ElementTree that
WeasyPrint's own parser, tinyhtml5 (in Python), builds: 0.3 ms instead of 6 to 7 for a
one-page invoice, 5 to 8 ms of a 100 ms render (issue 16).

Both parsers follow the HTML standard's tree construction, so they agree on what templates
write: implied <tbody>, unclosed <p> and <li>, entities, CR LF. They can part where the
standard repairs formatting tags left open over a block or closed out of order, which the
check below catches. Where their builds could differ otherwise, the markup goes to
tinyhtml5: foreign content (<svg>, <math>, whose names and attributes tinyhtml5
namespaces), <template>, <select> and
its options (whose content model the standard has changed), elements whose parsing depends
on scripting or is legacy (<noscript>, <noembed>, <noframes>, <iframe>, <xmp>, <plaintext>,
<frameset>, <nobr>, ruby's <rb> <rt> <rtc> <rp>), CDATA and processing instructions.
A template version's first documents in a process are parsed by both and compared (`Parser`):
one the two build differently stays with tinyhtml5. tests/unit/test_html_tree.py compares
the trees on every shipped template and fixture and on generated markup, and the PDFs.
"""
from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from typing import Any

import cssselect2
import tinyhtml5
from selectolax.lexbor import LexborHTMLParser, LexborNode
from weasyprint import HTML
from weasyprint.urls import URLFetcher

#: Markup left to tinyhtml5 (see the module's docstring).
ELSEWHERE = re.compile(r"<\s*/?\s*(?:svg|math|template|noscript|noembed|noframes|iframe|xmp|plaintext|frameset"
                       r"|select|option|optgroup|nobr|rb|rt|rtc|rp)\b|<!\[CDATA\[|<\?", re.IGNORECASE)


def parse(html: str) -> ET.Element | None:
    """The tree tinyhtml5.parse(html, namespace_html_elements=False) returns, or None for
    markup left to it."""
    if ELSEWHERE.search(html):
        return None
    root = LexborHTMLParser(html).root
    return None if root is None else _element(root)


def _element(root: LexborNode) -> ET.Element:
    """The ElementTree of a lexbor subtree, built without recursion (a template may nest deep)."""
    top = ET.Element(root.tag or "html", _attributes(root))
    # (next node to read, the element it goes in, [the element's last child so far]): a level each
    stack: list[tuple[LexborNode | None, ET.Element, list[Any]]] = [(root.child, top, [None])]
    while stack:
        child, element, last = stack.pop()
        while child is not None:
            tag = child.tag or ""
            if tag == "-text":
                text = child.text_content or ""
                if last[0] is None:
                    element.text = (element.text or "") + text
                else:
                    last[0].tail = (last[0].tail or "") + text
            elif tag == "-comment":
                last[0] = ET.Comment(child.text_lexbor())
                element.append(last[0])
            elif not tag.startswith(("-", "_", "!")):
                sub = ET.Element(tag, _attributes(child))
                element.append(sub)
                last[0] = sub
                stack.append((child.next, element, last))  # the rest of this level, after the subtree
                child, element, last = child.child, sub, [None]
                continue
            child = child.next
    return top


def _attributes(node: LexborNode) -> dict[str, str]:
    return {name: "" if value is None else value for name, value in node.attributes.items()}


class ParsedHTML(HTML):
    """weasyprint.HTML over a tree already parsed: what HTML.__init__ does after its parse."""

    def __init__(self, root: ET.Element, base_url: str, url_fetcher: URLFetcher, media_type: str = "print"):
        from weasyprint import _find_base_url  # WeasyPrint's own step after parsing (70.x)

        self.base_url = _find_base_url(root, base_url)
        self.url_fetcher = url_fetcher
        self.media_type = media_type
        self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
        self.etree_element = self.wrapper_element.etree_element


def shape(root: ET.Element) -> list[tuple]:
    """Every node in document order with its attributes, text and tail: two trees with the same
    shape are the same tree (no recursion: a template may nest deep)."""
    return [(e.tag if isinstance(e.tag, str) else "#comment", sorted(e.attrib.items()), e.text or "", e.tail or "")
            for e in root.iter()]


class Parser:
    """One per template version: lexbor, checked against tinyhtml5 on the version's first
    `checked` documents in this process. A version whose markup the two build differently
    (misnested tags the standard repairs in ways the two parsers don't share) is parsed by
    tinyhtml5 from then on, as WeasyPrint alone would: it is laid out as it always was."""

    def __init__(self, name: str, checked: int = 3):
        self.name = name
        self.to_check = checked
        self.lexbor = True

    def html(self, markup: str, base_url: str, url_fetcher: URLFetcher) -> HTML:
        root = parse(markup) if self.lexbor else None
        if root is not None and self.to_check > 0:
            self.to_check -= 1
            reference = tinyhtml5.parse(markup, namespace_html_elements=False)
            if shape(root) != shape(reference):
                self.lexbor = False
                logging.getLogger("docsvc").warning(
                    "template %s: lexbor and tinyhtml5 build its HTML differently; parsed by tinyhtml5 from now on",
                    self.name)
                root = reference
        if root is None:
            return HTML(string=markup, base_url=base_url, url_fetcher=url_fetcher)
        return ParsedHTML(root, base_url, url_fetcher)
