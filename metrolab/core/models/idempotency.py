"""Idempotency keys of API creates (R7.2a): the first answer to a POST carrying an
`Idempotency-Key` header, replayed to retries of the same request for 24 hours."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """A client's key for one POST, and the answer it got. Stored in the same transaction as
    the write it answers, so a crash between commit and response cannot make the client's
    retry create a second object: the retry finds the key and gets the first answer."""

    scope = models.CharField(_("client"), max_length=64)  # a hash of who sent it
    key = models.CharField(_("key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status = models.PositiveSmallIntegerField(_("status"))
    content_type = models.CharField(_("content type"), max_length=100)
    body = models.BinaryField(_("response body"))
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="core_idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"
