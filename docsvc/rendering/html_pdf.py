"""HTML to PDF through WeasyPrint, fetching nothing but the bundle's own assets."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .errors import AssetRefused

#: Base URL of every bundle: relative URLs resolve under it, and nothing is ever fetched
#: from this (reserved, unresolvable) host: the fetcher below serves it from disk.
BUNDLE_BASE = "https://bundle.invalid/"


class BundleFetcher(URLFetcher):
    """Serves files under the bundle's `assets/` and refuses everything else, loudly:
    no file://, no http(s), no data: exfiltration, no `..` out of the bundle."""

    def __init__(self, assets: Path):
        super().__init__(fail_on_errors=True)
        self.root = assets.resolve()

    def fetch(self, url, headers=None):
        parsed = urlparse(url)
        if f"{parsed.scheme}://{parsed.netloc}/" != BUNDLE_BASE:
            raise AssetRefused(f"template asked for {url!r}: only the bundle's assets/ are served")
        relative = unquote(parsed.path).lstrip("/")
        target = (self.root.parent / relative).resolve()
        if self.root not in target.parents:
            raise AssetRefused(f"template asked for {relative!r}: only assets/ is served")
        if not target.is_file():
            raise AssetRefused(f"template asked for {relative!r}, which the bundle lacks")
        return URLFetcherResponse(url, target.read_bytes(), {"Content-Type": _media_type(target)})


def _media_type(path: Path) -> str:
    return {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
            ".otf": "font/otf", ".ttf": "font/ttf", ".woff": "font/woff", ".woff2": "font/woff2",
            ".css": "text/css"}.get(path.suffix.lower(), "application/octet-stream")


class PdfEngine:
    """One per bundle: the parsed stylesheet and the font configuration are built once
    and reused, which keeps worker memory flat (DESIGN.md)."""

    def __init__(self, bundle_path: Path, css_text: str):
        self.fetcher = BundleFetcher(bundle_path / "assets")
        self.fonts = FontConfiguration()
        self.css = CSS(string=css_text, base_url=BUNDLE_BASE, url_fetcher=self.fetcher, font_config=self.fonts)

    def render(self, html: str, variant: str | None = None) -> bytes:
        """`variant="pdf/a-3b"` for Factur-X: embedded fonts, sRGB output intent, XMP."""
        document = HTML(string=html, base_url=BUNDLE_BASE, url_fetcher=self.fetcher)
        return document.write_pdf(stylesheets=[self.css], font_config=self.fonts, pdf_variant=variant)
