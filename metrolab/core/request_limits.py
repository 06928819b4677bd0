"""Limits on what a request may carry, answered before any view reads it (R7.2a).

- A body larger than the server accepts answers 413, in the API's JSON error shape under /api/
  and as a page elsewhere (Django itself would raise `RequestDataTooBig` on first read, which
  the API turned into a 500). Bodies without files: DATA_UPLOAD_MAX_MEMORY_SIZE. Multipart
  bodies (uploads): METROLAB_MAX_UPLOAD_REQUEST_BYTES, by default the largest file kind the lab
  accepts (each app adds its own to `upload_limits`; items: videos) plus room for the form
  fields.
- An uploaded file's name longer than FILE_NAME_MAX_LENGTH is refused (400) while the body is
  parsed, before anything is stored under that name.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousMultipartForm
from django.core.files.uploadhandler import FileUploadHandler
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _lazy

# The longest file name kept with an upload (the original_name columns hold 255).
FILE_NAME_MAX_LENGTH = 255
_MULTIPART_SLACK = 1024 * 1024

#: The largest file of each kind an app accepts, in bytes, asked on each request; apps add
#: theirs in AppConfig.ready (items: videos, metrolab.items.files.largest_upload_bytes).
upload_limits: list[Callable[[], int]] = []


def max_body_bytes(request) -> int | None:
    """The largest body this request may carry (None: no limit set)."""
    if request.content_type == "multipart/form-data":
        configured = getattr(settings, "METROLAB_MAX_UPLOAD_REQUEST_BYTES", None)
        if configured is not None:
            return int(configured)
        largest = max((limit() for limit in upload_limits), default=0)
        return largest + _MULTIPART_SLACK
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large_response(request):
    from metrolab.core.api_errors import MESSAGES, plain_error_body

    if request.path.startswith("/api/"):
        return JsonResponse(plain_error_body(request, 413, "too_large"), status=413)
    return render(request, "413.html", {"message": MESSAGES[413]}, status=413)


class RequestSizeLimitMiddleware:
    """413 for a declared Content-Length over the limit, and for a body found too large while a
    view reads it (chunked bodies declare no length)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = max_body_bytes(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return too_large_response(request)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            return too_large_response(request)
        return None


class FileNameTooLong(SuspiciousMultipartForm):
    user_message = _lazy("An uploaded file's name is longer than 255 characters.")


class FileNameLimitUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: refuses a file whose name is too long, then lets the
    standard handlers store the data."""

    def new_file(self, field_name, file_name, *args, **kwargs):
        if file_name and len(file_name) > FILE_NAME_MAX_LENGTH:
            raise FileNameTooLong(f"file name of {len(file_name)} characters")

    def receive_data_chunk(self, raw_data, start):
        return raw_data

    def file_complete(self, file_size):
        return None
