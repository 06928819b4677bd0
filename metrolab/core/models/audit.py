"""Audit log rows and the record of chain verifications."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from metrolab.core.models.base import AuditedModel
from metrolab.core.text import REASON


class AuditEvent(models.Model):
    """One event of the platform-wide, append-only, hash-chained audit log (R6.2c, R7.2b/d).

    Written only by `metrolab.core.audit.record`; database triggers reject UPDATE and DELETE,
    and an INSERT that does not continue the chain.
    """

    seq = models.BigIntegerField(_("sequence"), primary_key=True)
    created_at = models.DateTimeField(_("server time"), db_index=True)
    actor_type = models.CharField(_("actor type"), max_length=16)
    actor_id = models.CharField(_("actor id"), max_length=64, blank=True, db_index=True)
    actor_label = models.CharField(_("actor"), max_length=150, blank=True, db_index=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    operation = models.CharField(_("operation"), max_length=16)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True, max_length=REASON)
    client_ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-seq"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self):
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit events are append-only")


class AuditVerification(AuditedModel):
    """One run of the chain verification (on demand from the audit page), or an anchor: the
    head of the chain noted by the worker every hour (R7.2b). The heads of intact
    verifications and of anchors are what a later verification checks a rewrite against."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        INTACT = "intact", _("intact")
        BROKEN = "broken", _("broken")
        FAILED = "failed", _("failed")
        ANCHORED = "anchored", _("head anchored")

    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        "core.User",
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    event_count = models.BigIntegerField(_("events checked"), default=0)
    head_seq = models.BigIntegerField(_("last sequence"), default=0)
    head_hash = models.CharField(_("head hash"), max_length=64, blank=True)
    first_bad_seq = models.BigIntegerField(_("first bad sequence"), null=True, blank=True)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        verbose_name = _("audit chain verification")
        verbose_name_plural = _("audit chain verifications")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def in_progress(self) -> bool:
        """Queued or running: the audit page polls it until it ends."""
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
