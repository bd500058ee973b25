"""Which characters a template version can draw: the cmaps of its fonts.

A bundle's fonts are the files under `assets/` (.otf, .ttf, .woff, .woff2) plus the
fallback fonts its template.toml declares:

    fallback_fonts = ["assets/fonts/NotoSansHebrew.ttf", "DejaVu Sans"]

an entry under `assets/` is a bundle file (its style.css must load it with @font-face),
any other entry an installed font family (found with fontconfig). WeasyPrint would also
fall back on whatever the machine happens to have installed; counting only what the
bundle declares keeps an original the same wherever it is rendered. Read once per
template version (keyed by the bundle's SHA-256).
"""
from __future__ import annotations

import re
import subprocess
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont, TTLibError

FONT_SUFFIXES = (".otf", ".ttf", ".woff", ".woff2", ".ttc")


@dataclass(frozen=True)
class Coverage:
    codepoints: frozenset[int]
    fonts: tuple[str, ...]  # family names, for messages


_cache: dict[str, Coverage] = {}
_lock = threading.Lock()


def fallback_fonts(path: Path) -> list[str]:
    try:
        declared = tomllib.loads((path / "template.toml").read_text()).get("fallback_fonts", [])
    except (OSError, tomllib.TOMLDecodeError):
        return []
    return [f for f in declared if isinstance(f, str)] if isinstance(declared, list) else []


def system_font_files(family: str) -> list[Path]:
    """Files of an installed font family, through fontconfig (fc-list)."""
    escaped = re.sub(r"([\\:,=-])", r"\\\1", family)
    try:
        listing = subprocess.run(["fc-list", f":family={escaped}", "file"], capture_output=True, text=True,
                                 timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return sorted({Path(line.strip().rstrip(":")) for line in listing.splitlines() if line.strip()})


def _cmap(file: Path) -> tuple[set[int], str]:
    """The code points a font file maps, and its family name."""
    try:
        fonts = TTCollection(str(file), lazy=True).fonts if file.suffix.lower() == ".ttc" else [
            TTFont(str(file), lazy=True)]
    except (OSError, TTLibError, ImportError):  # woff2 without brotli, a broken file: draws nothing
        return set(), file.name
    points: set[int] = set()
    family = file.stem
    for font in fonts:
        points |= set((font.getBestCmap() or {}).keys())
        name = (font["name"].getDebugName(16) or font["name"].getDebugName(1)) if "name" in font else None
        family = name or family
    return points, family


GENERIC = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui", "inherit", "initial", "unset"}


def css_families(path: Path) -> list[str]:
    """Installed families style.css names by name (not @font-face ones, not generic ones)."""
    css_file = path / "style.css"
    if not css_file.is_file():
        return []
    css = css_file.read_text()
    declared = {m.strip().lower() for m in re.findall(r"@font-face\s*{[^}]*?font-family\s*:\s*['\"]?([^;'\"]+)", css)}
    css = re.sub(r"@font-face\s*{[^}]*}", "", css)
    names = [f.strip().strip("'\"") for m in re.findall(r"font-family\s*:\s*([^;}]+)", css) for f in m.split(",")]
    names += re.findall(r"\bfont\s*:[^;}]*?[\"']([^\"']+)[\"']", css)
    return list(dict.fromkeys(n for n in names if n and n.lower() not in GENERIC and n.lower() not in declared))


def font_files(path: Path) -> list[Path]:
    """Every font file the bundle ships, the installed families its style.css names, and the
    fallback families its template.toml declares. Generic families (sans-serif) count for
    nothing: what they resolve to depends on the machine."""
    files = sorted(p for p in (path / "assets").rglob("*") if p.suffix.lower() in FONT_SUFFIXES)
    for entry in css_families(path) + fallback_fonts(path):
        if entry.startswith("assets/"):
            continue  # already among the bundle's files
        files += [f for f in system_font_files(entry) if f not in files]
    return files


def coverage(path: Path, sha256: str) -> Coverage:
    """What the bundle at `path` (content hash `sha256`) can draw; cached per version."""
    if sha256 in _cache:
        return _cache[sha256]
    points: set[int] = set()
    families: list[str] = []
    for file in font_files(Path(path)):
        more, family = _cmap(file)
        points |= more
        if more and family not in families:
            families.append(family)
    result = Coverage(frozenset(points), tuple(families))
    with _lock:
        _cache[sha256] = result
    return result


def fallback_problems(path: Path) -> list[dict]:
    """For publishing: each declared fallback font must exist (a bundle file loaded by
    @font-face in style.css, or an installed family)."""
    out = []
    css = (path / "style.css").read_text() if (path / "style.css").is_file() else ""
    try:
        declared = tomllib.loads((path / "template.toml").read_text()).get("fallback_fonts", [])
    except (OSError, tomllib.TOMLDecodeError):
        return []
    if not isinstance(declared, list) or not all(isinstance(f, str) for f in declared):
        return [{"file": "template.toml", "line": None,
                 "message": "fallback_fonts must be a list of font files under assets/ or installed families"}]
    for entry in declared:
        if entry.startswith("assets/"):
            if not (path / entry).is_file():
                out.append({"file": "template.toml", "line": None,
                            "message": f"fallback font {entry!r} is not in the bundle"})
            elif entry not in css:
                out.append({"file": "template.toml", "line": None,
                            "message": f"fallback font {entry!r} is not loaded by an @font-face in style.css, "
                                       "so it would draw nothing"})
        elif not system_font_files(entry):
            out.append({"file": "template.toml", "line": None,
                        "message": f"fallback font family {entry!r} is not installed"})
    return out
