"""`Idempotency-Key` on API POSTs (R7.2a): a retry never creates a second object.

A client that sends `Idempotency-Key: <its own unique string>` with a POST under /api/ and gets
a success may send the same request again (a timeout, a crash between commit and response)
and receives the first answer, marked `Idempotent-Replayed: true`, without the operation
running again. The key is stored with the answer in the same transaction as the operation's
writes: either both are committed or neither. The same key with another body or path is
refused (422, `idempotency_key_reused`); a key that another request is still using answers
409 (`idempotency_key_in_use`). Keys are per client (API token or signed-in user) and expire
after IDEMPOTENCY_TTL. Only successful answers (2xx) are kept: a refused request created
nothing, so running it again is harmless.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from metrolab.core.middleware import client_ip
from metrolab.core.models import IdempotencyKey

HEADER = "Idempotency-Key"
IDEMPOTENCY_TTL = dt.timedelta(hours=24)
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces


def _scope(request) -> str:
    """Who the key belongs to: the bearer token, else the signed-in user, else the address."""
    authorization = request.headers.get("Authorization", "")
    if authorization:
        who = "auth:" + authorization
    elif getattr(request, "user", None) is not None and request.user.is_authenticated:
        who = f"user:{request.user.pk}"
    else:
        who = f"address:{client_ip(request)}"
    return hashlib.sha256(who.encode()).hexdigest()


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.get_full_path().encode() + b"\n")
    digest.update(request.body)
    return digest.hexdigest()


def _error(request, status: int, code: str, message: str):
    from metrolab.core.api_errors import error_body

    return JsonResponse(error_body(request, status, message, code=code), status=status)


def _replay(stored: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(stored.body), status=stored.status)
    response["Content-Type"] = stored.content_type
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    """Runs an API POST that carries an Idempotency-Key in one transaction with its key."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not _VALID_KEY.match(key):
            return _error(
                request,
                400,
                "idempotency_key_invalid",
                _("The Idempotency-Key must be 1 to 255 printable ASCII characters."),
            )
        scope, fingerprint, now = _scope(request), _fingerprint(request), timezone.now()
        try:
            with transaction.atomic():
                IdempotencyKey.objects.filter(created_at__lt=now - IDEMPOTENCY_TTL).delete()
                stored = IdempotencyKey.objects.filter(scope=scope, key=key).first()
                if stored is not None:
                    if stored.fingerprint != fingerprint:
                        return _error(
                            request,
                            422,
                            "idempotency_key_reused",
                            _("This Idempotency-Key was used for another request."),
                        )
                    return _replay(stored)
                response = self.get_response(request)
                if 200 <= response.status_code < 300 and not response.streaming:
                    IdempotencyKey.objects.create(
                        scope=scope,
                        key=key,
                        fingerprint=fingerprint,
                        status=response.status_code,
                        content_type=response.get("Content-Type", "application/json"),
                        body=response.content,
                        created_at=now,
                    )
                elif response.status_code >= 500:
                    transaction.set_rollback(True)
                return response
        except IntegrityError:
            # A concurrent request with the same key committed first; ours was rolled back.
            return _error(
                request,
                409,
                "idempotency_key_in_use",
                _("Another request with this Idempotency-Key is being processed; retry later."),
            )
