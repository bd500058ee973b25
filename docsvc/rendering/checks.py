"""What a template designer needs to hear before a version can be published.

Each problem is {file, line, message}: a manifest that doesn't parse, a Jinja syntax
error, a DOCX tag that Word split across runs or whose quotes it curled, an asset the
HTML or CSS references but the bundle lacks, a font the CSS names that neither the
bundle nor the system has, and every fixture that fails to render in a declared format.
"""
from __future__ import annotations

import re
import subprocess
import tomllib
import traceback
import zipfile
from functools import cache
from pathlib import Path

from jinja2 import TemplateSyntaxError

from ..naming import SEMVER
from .environment import make_environment
from .glyphs import fallback_problems

FORMATS = {"pdf", "docx"}
LANGUAGES = {"fr", "en"}
GENERIC_FONTS = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui", "inherit", "initial"}
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def problem(file: str, message: str, line: int | None = None) -> dict:
    return {"file": file, "line": line, "message": message}


def _unreadable(exc: Exception) -> str:
    return ("nested deeper than Python reads" if isinstance(exc, RecursionError)
            else "not UTF-8 text")


def check_manifest(path: Path, name: str | None = None, version: str | None = None) -> list[dict]:
    try:
        manifest = tomllib.loads((path / "template.toml").read_text())
    except FileNotFoundError:
        return [problem("template.toml", "missing")]
    except tomllib.TOMLDecodeError as exc:
        return [problem("template.toml", str(exc), _toml_line(exc))]
    except (RecursionError, UnicodeDecodeError) as exc:  # nested past Python's limit, not UTF-8
        return [problem("template.toml", _unreadable(exc))]
    out = []
    for key in ("name", "version", "formats", "languages"):
        if key not in manifest:
            out.append(problem("template.toml", f"{key} is required"))
    if out:
        return out
    if name and manifest["name"] != name:
        out.append(problem("template.toml", f"name is {manifest['name']!r}, published as {name!r}"))
    if not SEMVER.fullmatch(str(manifest["version"])):
        out.append(problem("template.toml", f"version {manifest['version']!r} is not a semantic version (1.2.0)"))
    elif version and manifest["version"] != version:
        out.append(problem("template.toml", f"version is {manifest['version']}, published as {version}"))
    if not manifest["formats"] or not set(manifest["formats"]) <= FORMATS:
        out.append(problem("template.toml", f"formats must be among {sorted(FORMATS)}"))
    if not manifest["languages"] or not set(manifest["languages"]) <= LANGUAGES:
        out.append(problem("template.toml", f"languages must be among {sorted(LANGUAGES)}"))
    needed = {"pdf": ["document.html", "style.css"], "docx": ["document.docx"]}
    for fmt in set(manifest["formats"]) & FORMATS:
        out += [problem(f, "missing (needed for " + fmt + ")") for f in needed[fmt] if not (path / f).is_file()]
    for lang in set(manifest["languages"]) & LANGUAGES:
        labels = path / "labels" / f"{lang}.toml"
        try:
            tomllib.loads(labels.read_text())
        except FileNotFoundError:
            out.append(problem(f"labels/{lang}.toml", "missing"))
        except tomllib.TOMLDecodeError as exc:
            out.append(problem(f"labels/{lang}.toml", str(exc), _toml_line(exc)))
        except (RecursionError, UnicodeDecodeError) as exc:
            out.append(problem(f"labels/{lang}.toml", _unreadable(exc)))
    return out


def _toml_line(exc: Exception) -> int | None:
    match = re.search(r"line (\d+)", str(exc))
    return int(match.group(1)) if match else None


def check_html(path: Path) -> list[dict]:
    source = path / "document.html"
    if not source.is_file():
        return []
    try:
        make_environment().parse(source.read_text(), "document.html")
    except TemplateSyntaxError as exc:
        return [problem("document.html", exc.message or "syntax error", exc.lineno)]
    return []


_URL_IN_CSS = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
_URL_IN_HTML = re.compile(r"""(?:src|href)\s*=\s*["']([^"'{}]+)["']""")


def check_assets(path: Path) -> list[dict]:
    """Every URL the HTML and CSS name must be a file of the bundle's assets/."""
    out = []
    for name, pattern in (("document.html", _URL_IN_HTML), ("style.css", _URL_IN_CSS)):
        file = path / name
        if not file.is_file():
            continue
        for number, text in enumerate(file.read_text().splitlines(), start=1):
            for url in pattern.findall(text):
                if url.startswith("#"):
                    continue
                if re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I):
                    out.append(problem(name, f"{url!r}: only the bundle's own assets/ can be used", number))
                elif not url.startswith("assets/") or not (path / url).resolve().is_relative_to(
                        (path / "assets").resolve()):
                    out.append(problem(name, f"{url!r}: assets must be under assets/", number))
                elif not (path / url).is_file():
                    out.append(problem(name, f"{url!r} is referenced but not in the bundle", number))
    return out


@cache
def system_fonts() -> frozenset[str]:
    try:
        listing = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(f.strip().lower() for line in listing.splitlines() for f in line.split(","))


def check_fonts(path: Path) -> list[dict]:
    """A font the CSS names must be declared by @font-face or installed: no silent fallback."""
    css_file = path / "style.css"
    if not css_file.is_file():
        return []
    css = css_file.read_text()
    declared = {m.strip().lower() for m in re.findall(r"@font-face\s*{[^}]*?font-family\s*:\s*['\"]?([^;'\"]+)", css)}
    out, seen = [], set()
    for number, text in enumerate(css.splitlines(), start=1):
        if "@font-face" in text:
            continue
        names = [f.strip().strip("'\"") for m in re.findall(r"font-family\s*:\s*([^;}]+)", text) for f in m.split(",")]
        names += re.findall(r"\bfont\s*:[^;}]*?[\"']([^\"']+)[\"']", text)  # shorthand: quoted family names
        for family in names:
            key = family.lower()
            if not family or key in GENERIC_FONTS or key in declared or key in system_fonts() or key in seen:
                continue
            seen.add(key)
            out.append(problem("style.css", f"font {family!r} is neither in the bundle (@font-face) nor installed",
                               number))
    return out


def check_docx(path: Path) -> list[dict]:
    """Tags Word split across runs, curly quotes inside tags, and Jinja syntax errors."""
    file = path / "document.docx"
    if not file.is_file():
        return []
    from lxml import etree

    out = []
    with zipfile.ZipFile(file) as archive:
        parts = [n for n in archive.namelist() if re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", n)]
        for part in parts:
            tree = etree.fromstring(archive.read(part))
            for paragraph in tree.iter(f"{W}p"):
                runs = ["".join(t.text or "" for t in r.iter(f"{W}t")) for r in paragraph.iter(f"{W}r")]
                text = "".join(runs)
                if "{" not in text:
                    continue
                for tag in re.findall(r"{[{%#].*?[}%#]}", text):
                    if not any(tag in run for run in runs):
                        out.append(problem(f"document.docx ({part})",
                                           f"tag {tag!r} is split across Word runs in: {text!r}"))
                    if re.search("[\u201c\u201d\u2018\u2019]", tag):
                        out.append(problem(f"document.docx ({part})",
                                           f"curly quotes inside tag {tag!r} in: {text!r}"))
    if out:
        return out
    try:
        from docxtpl import DocxTemplate

        template = DocxTemplate(str(file))
        template.init_docx()
        xml = template.patch_xml(template.get_xml())
        make_environment(autoescape=False).parse(xml)
    except TemplateSyntaxError as exc:
        out.append(problem("document.docx", f"{exc.message}"))
    return out


def render_error(file: str, exc: Exception) -> dict:
    """A render failure with the template line when Jinja knows it."""
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename.endswith(file):
            line = lineno
    return problem(file, f"{type(exc).__name__}: {exc}", line)


def check_bundle(path: Path, name: str | None = None, version: str | None = None) -> list[dict]:
    problems = check_manifest(path, name, version)
    if problems:
        return problems
    return (check_html(path) + check_docx(path) + check_assets(path) + check_fonts(path)
            + fallback_problems(path))
