"""The content-addressed store of item photos and videos (R6.6b).

A file is stored once, under MEDIA_ROOT/items/ab/cd/<sha256> (outside the web root), named by
the SHA-256 of its bytes: the same content uploaded twice is one file, and a stored file is
never rewritten, renamed or removed. What a file is comes from its first bytes (its "magic"),
never from its name or the type the browser claims.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

PHOTO = "photo"
VIDEO = "video"

DEFAULT_MAX_PHOTO_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_VIDEO_BYTES = 200 * 1024 * 1024

# ISO base media file format (MP4, MOV, HEIF) brands, from the `ftyp` box's major brand.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_MP4_BRANDS = {
    b"isom",
    b"iso2",
    b"iso4",
    b"iso5",
    b"iso6",
    b"mp41",
    b"mp42",
    b"avc1",
    b"dash",
    b"M4V ",
    b"MSNV",
    b"3gp4",
    b"3gp5",
    b"3gp6",
    b"3g2a",
}
_QUICKTIME_BRANDS = {b"qt  "}

HEAD_BYTES = 64  # enough for every signature below

SUPPORTED_TYPES_TEXT = "JPEG, PNG, WebP, HEIC, MP4, MOV, WebM"


@dataclass(frozen=True)
class Sniffed:
    kind: str  # PHOTO or VIDEO
    content_type: str


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    path: Path
    created: bool  # False: the same content was stored before and was left untouched


class TooLarge(Exception):
    """The stream grew past the allowed size; nothing was stored."""


def sniff(head: bytes) -> Sniffed | None:
    """What a file is, from its first bytes; None for anything that is not a supported photo
    or video (whatever its name says)."""
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed(PHOTO, "image/jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed(PHOTO, "image/png")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed(PHOTO, "image/webp")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return Sniffed(PHOTO, "image/heic" if brand.startswith(b"he") else "image/heif")
        if brand in _QUICKTIME_BRANDS:
            return Sniffed(VIDEO, "video/quicktime")
        if brand in _MP4_BRANDS:
            return Sniffed(VIDEO, "video/mp4")
        return None
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:HEAD_BYTES]:
        return Sniffed(VIDEO, "video/webm")
    return None


def max_bytes(kind: str) -> int:
    """The size limit of a kind of file (settings METROLAB_MAX_PHOTO_BYTES / _VIDEO_BYTES)."""
    if kind == VIDEO:
        return int(getattr(settings, "METROLAB_MAX_VIDEO_BYTES", DEFAULT_MAX_VIDEO_BYTES))
    return int(getattr(settings, "METROLAB_MAX_PHOTO_BYTES", DEFAULT_MAX_PHOTO_BYTES))


def store_root(area: str = "items") -> Path:
    """The store of one area of MEDIA_ROOT ("items" for photos, "documents" for documents)."""
    return Path(settings.MEDIA_ROOT) / area


def path_for(sha256: str, area: str = "items") -> Path:
    """Where the content with this SHA-256 lives: <area>/ab/cd/abcd..."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")
    return store_root(area) / sha256[:2] / sha256[2:4] / sha256


def store_chunks(chunks: Iterable[bytes], *, limit: int, area: str = "items") -> StoredFile:
    """Write the stream to a temporary file beside the store while hashing it, then give it
    its content address. Existing content is never rewritten: if the address exists, the
    temporary file is simply dropped. Raises TooLarge (nothing kept) past `limit` bytes."""
    tmp_dir = store_root(area) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha256 = digest.hexdigest()
        final = path_for(sha256, area)
        final.parent.mkdir(parents=True, exist_ok=True)
        created = _place(tmp, final)
        return StoredFile(sha256=sha256, size=size, path=final, created=created)
    finally:
        tmp.unlink(missing_ok=True)


def _place(tmp: Path, final: Path) -> bool:
    """Give the temporary file its final name unless that name exists. A hard link fails
    instead of replacing, so two uploads of the same content racing each other cannot
    overwrite one another; the temporary name is removed by the caller."""
    if final.exists():
        return False
    tmp.chmod(0o444)
    try:
        os.link(tmp, final)
    except FileExistsError:
        return False
    except OSError:
        # A file system without hard links: rename, having checked it is still absent.
        if final.exists():
            return False
        os.rename(tmp, final)
    return True
