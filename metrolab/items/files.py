"""The content-addressed store of item photos and videos (R6.6b).

A file is stored once, under MEDIA_ROOT/items/ab/cd/<sha256> (outside the web root), named by
the SHA-256 of its bytes: the same content uploaded twice is one file, and a stored file is
never rewritten, renamed or removed. What a file is comes from its first bytes (its "magic"),
never from its name or the type the browser claims.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

# The store itself is the core's (one for photos, videos and documents).
from metrolab.core.files import (  # noqa: F401
    HEAD_BYTES,
    StoredFile,
    TooLarge,
    path_for,
    store_chunks,
    store_root,
)

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


SUPPORTED_TYPES_TEXT = "JPEG, PNG, WebP, HEIC, MP4, MOV, WebM"


@dataclass(frozen=True)
class Sniffed:
    kind: str  # PHOTO or VIDEO
    content_type: str


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


def largest_upload_bytes() -> int:
    """The largest file an item takes (a video): what an upload request may carry
    (registered in metrolab.core.request_limits.upload_limits)."""
    return max_bytes(VIDEO)
