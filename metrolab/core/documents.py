"""Attached documents (method texts, external calibration certificates, signed acceptances,
personnel certificates): PDF or image files kept in the content-addressed store of
`metrolab.core.files` under MEDIA_ROOT/documents, never overwritten or removed.

A model that holds a document has three fields (see `DocumentFields`): the SHA-256, the file
name as uploaded and the content type found from the file's first bytes. Views serve it with
`document_response` after their own access check.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metrolab.core import files
from metrolab.core.errors import CoreRefusal
from metrolab.core.service import ServiceError

AREA = "documents"
DEFAULT_MAX_DOCUMENT_BYTES = 30 * 1024 * 1024
SUPPORTED_TEXT = "PDF, JPEG, PNG"


@dataclass(frozen=True)
class StoredDocument:
    sha256: str
    name: str
    content_type: str
    size: int


def sniff_document(head: bytes) -> str | None:
    """The content type of a supported document from its first bytes, else None."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def max_document_bytes() -> int:
    return int(getattr(settings, "METROLAB_MAX_DOCUMENT_BYTES", DEFAULT_MAX_DOCUMENT_BYTES))


def document_store(upload, *, field: str = "file") -> StoredDocument:
    """Store an uploaded file (Django UploadedFile) as a document. Raises ServiceError naming
    `field` when the file is not a PDF / JPEG / PNG or is too large; nothing is kept then."""
    upload.seek(0)
    head = upload.read(files.HEAD_BYTES)
    content_type = sniff_document(head)
    if content_type is None:
        raise ServiceError(
            _("This file is not a supported document (%(types)s).") % {"types": SUPPORTED_TEXT},
            code=CoreRefusal.INVALID,
            field=field,
        )
    upload.seek(0)
    limit = max_document_bytes()
    try:
        stored = files.store_chunks(upload.chunks(), limit=limit, area=AREA)
    except files.TooLarge:
        raise ServiceError(
            _("This file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)},
            code=CoreRefusal.INVALID,
            field=field,
        ) from None
    name = (getattr(upload, "name", "") or "document")[-255:]
    return StoredDocument(stored.sha256, name, content_type, stored.size)


def document_response(sha256: str, name: str, content_type: str) -> FileResponse:
    """The stored document as a download (inline for PDFs and images)."""
    try:
        path = files.path_for(sha256, AREA)
    except ValueError:
        raise Http404 from None
    if not path.exists():
        raise Http404
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{_quote(name)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name or "document", safe="")


class DocumentFields(models.Model):
    """Mixin fields of a model with one optional attached document."""

    file_sha256 = models.CharField(gettext_lazy("file SHA-256"), max_length=64, blank=True)
    file_name = models.CharField(gettext_lazy("file name"), max_length=255, blank=True)
    file_type = models.CharField(gettext_lazy("file type"), max_length=100, blank=True)

    class Meta:
        abstract = True

    def attach(self, document: StoredDocument) -> None:
        self.file_sha256 = document.sha256
        self.file_name = document.name
        self.file_type = document.content_type

    @property
    def has_file(self) -> bool:
        return bool(self.file_sha256)
