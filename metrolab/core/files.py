"""The content-addressed file store under MEDIA_ROOT (R6.6b): item photos and videos
(metrolab.items.files) and attached documents (metrolab.core.documents) live in their own
area of it.

A file is stored once, under MEDIA_ROOT/<area>/ab/cd/<sha256> (outside the web root), named by
the SHA-256 of its bytes: the same content uploaded twice is one file, and a stored file is
never rewritten, renamed or removed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

HEAD_BYTES = 64  # enough for every file signature the lab checks


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    path: Path
    created: bool  # False: the same content was stored before and was left untouched


class TooLarge(Exception):
    """The stream grew past the allowed size; nothing was stored."""


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
