"""Taking a template bundle in: a zip is untrusted, so it is unpacked under limits.

Refused: more than MAX_FILES files, more than MAX_BYTES unpacked, a member whose
compression ratio exceeds MAX_RATIO (zip bombs), absolute paths, `..`, links, anything
but regular files, paths longer than MAX_PATH or deeper than MAX_DEPTH, compression
other than store and deflate, and members that can't be read or written (a bad CRC, a
file and a folder of one name): each as a problem naming the file, never a 500.
"""
from __future__ import annotations

import io
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

MAX_FILES = 200
MAX_BYTES = 20 * 1024 * 1024
MAX_RATIO = 100
MAX_PATH = 200  # characters of a member's path
MAX_DEPTH = 12  # folders


class BundleRejected(Exception):
    """The bundle can't be taken in; `problems` lists each reason with its file."""

    def __init__(self, problems: list[dict]):
        super().__init__("; ".join(f"{p['file']}: {p['message']}" for p in problems))
        self.problems = problems


def unpack(data: bytes, target: Path) -> None:
    """Unzip `data` into `target` (which must not exist), within the limits above.

    A bundle zipped with its folder (classic-1.3.0/template.toml) is unpacked from that
    folder, so designers can zip the folder or its contents.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BundleRejected([{"file": "(upload)", "line": None, "message": "not a zip file"}]) from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    problems = []
    if len(members) > MAX_FILES:
        problems.append({"file": "(upload)", "line": None, "message": f"{len(members)} files, at most {MAX_FILES}"})
    total = sum(m.file_size for m in members)
    if total > MAX_BYTES:
        problems.append({"file": "(upload)", "line": None,
                         "message": f"{total} bytes unpacked, at most {MAX_BYTES}"})
    for m in members:
        path = PurePosixPath(m.filename)
        mode = m.external_attr >> 16
        if m.filename.startswith("/") or path.is_absolute() or ":" in path.parts[0]:
            problems.append({"file": m.filename, "line": None, "message": "absolute path"})
        elif ".." in path.parts or "\\" in m.filename:
            problems.append({"file": m.filename, "line": None, "message": "path leaves the bundle (..)"})
        elif stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # links, devices; 0 = no type recorded
            problems.append({"file": m.filename, "line": None, "message": "not a regular file (link?)"})
        elif len(m.filename) > MAX_PATH or len(path.parts) > MAX_DEPTH:
            problems.append({"file": m.filename[:MAX_PATH] + ("…" if len(m.filename) > MAX_PATH else ""),
                             "line": None, "message": f"path longer than {MAX_PATH} characters or deeper "
                                                      f"than {MAX_DEPTH} folders"})
        elif m.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            problems.append({"file": m.filename, "line": None,
                             "message": f"compression method {m.compress_type}: store or deflate only"})
        elif m.compress_size and m.file_size / m.compress_size > MAX_RATIO:
            problems.append({"file": m.filename, "line": None,
                             "message": f"compression ratio {m.file_size // m.compress_size}:1, at most {MAX_RATIO}:1"})
    if problems:
        raise BundleRejected(problems)
    prefix = _common_folder([m.filename for m in members])
    target.mkdir(parents=True)
    written = 0
    for m in members:
        relative = m.filename[len(prefix):]
        if not relative or PurePosixPath(relative).name.startswith("."):
            continue
        try:
            with archive.open(m) as source:
                content = source.read(MAX_BYTES + 1 - written)  # never trust the declared size
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error) as exc:
            raise BundleRejected([{"file": m.filename, "line": None, "message": f"unreadable: {exc}"}]) from None
        written += len(content)
        if written > MAX_BYTES:
            raise BundleRejected([{"file": m.filename, "line": None, "message": "bundle larger than declared"}])
        out = target / relative
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(content)
        except OSError as exc:  # a file and a folder of one name, a name the file system refuses
            raise BundleRejected([{"file": m.filename, "line": None,
                                   "message": f"can't be unpacked: {exc.strerror or exc}"}]) from None


def _common_folder(names: list[str]) -> str:
    """"folder/" when every member sits in one folder holding template.toml, else ""."""
    if "template.toml" in names or not names:
        return ""
    first = names[0].split("/", 1)[0] + "/"
    if all(n.startswith(first) for n in names) and first + "template.toml" in names:
        return first
    return ""


def pack(folder: Path) -> bytes:
    """Zip a bundle folder the way `unpack` expects (used by `docsvc templates publish`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            relative = path.relative_to(folder)
            if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
                continue
            archive.write(path, relative.as_posix())
    return buffer.getvalue()
