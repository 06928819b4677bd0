"""Electronic certificates (R6.3, R9.1): one row per certificate made from an approved original
record, with its number, its electronic certificate identifier (R6.3d) and the SHA-256 of the
signed PDF and of the DCC XML in the content-addressed store (area "certificates").

A certificate is queued in the approval's transaction and issued by the background worker
(rendered, signed, stored); its stored file is never changed. Revocation (作废) and replacement
(更正) only mark the row; the replacing certificate is a new row that names the one it replaces.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from metrolab.core.components import register_tones
from metrolab.core.models import AuditedModel
from metrolab.core.text import CODE, REASON


class Certificate(AuditedModel):
    """An electronic certificate (检定证书 / 检定结果通知书 / 校准证书 / 检测报告 / 检验报告)."""

    class Kind(models.TextChoices):
        VERIFICATION = "verification", _("verification certificate (检定证书)")
        VERIFICATION_FAIL = "verification_fail", _("notice of verification result (检定结果通知书)")
        CALIBRATION = "calibration", _("calibration certificate (校准证书)")
        TEST = "test", _("test report (检测报告)")
        INSPECTION = "inspection", _("inspection report (检验报告)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued for issue")
        ISSUING = "issuing", _("being issued")
        FAILED = "failed", _("issue failed")
        # With a context: "issued" and "revoked" alone are translated for other meanings (a
        # qualification's date of issue, an API token's state).
        ISSUED = "issued", pgettext_lazy("certificate status", "issued")
        REVOKED = "revoked", pgettext_lazy("certificate status", "revoked")
        REPLACED = "replaced", _("replaced")

    number = models.CharField(_("certificate number"), max_length=CODE, unique=True)
    identifier = models.CharField(
        _("electronic certificate identifier"), max_length=64, unique=True
    )
    verification_code = models.CharField(_("verification code"), max_length=16)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    status = models.CharField(
        _("status"), max_length=12, choices=Status, default=Status.QUEUED, db_index=True
    )
    record = models.ForeignKey(
        "records.Record",
        verbose_name=_("original record"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    task = models.ForeignKey(
        "tasks.Task",
        verbose_name=_("task"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    item = models.ForeignKey(
        "items.Item", verbose_name=_("item"), on_delete=models.PROTECT, related_name="certificates"
    )
    commission = models.ForeignKey(
        "commissions.Commission",
        verbose_name=_("commission"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    replaces = models.OneToOneField(
        "self",
        verbose_name=_("replaces"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
    )
    replace_reason = models.CharField(
        _("reason for the replacement"), max_length=REASON, blank=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_on = models.DateField(_("date of issue"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)
    pdf_size = models.PositiveIntegerField(_("PDF size"), default=0)
    dcc_sha256 = models.CharField(_("DCC SHA-256"), max_length=64, blank=True)
    summary = models.JSONField(_("public summary"), default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoke_reason = models.CharField(_("reason for revocation"), max_length=REASON, blank=True)

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["commission", "status"], name="certificate_commission_status"),
            models.Index(fields=["-issued_at"], name="certificate_issued_desc"),
        ]

    def __str__(self):
        return self.number

    @property
    def in_progress(self) -> bool:
        """Queued or being issued: its pages poll it until it ends."""
        return self.status in (self.Status.QUEUED, self.Status.ISSUING)

    @property
    def has_file(self) -> bool:
        return bool(self.pdf_sha256)


class CertificateNumberCounter(AuditedModel):
    """The last sequence given for a counter key (one per number prefix and year, and one per
    year for identifiers): locked while a number is taken, so that no two certificates share
    one."""

    key = models.CharField(_("key"), max_length=CODE, unique=True)
    last = models.PositiveIntegerField(_("last sequence"), default=0)

    class Meta:
        verbose_name = _("certificate number counter")
        verbose_name_plural = _("certificate number counters")

    def __str__(self):
        return f"{self.key}: {self.last}"


register_tones(
    Certificate.Status,
    {
        Certificate.Status.QUEUED: "yellow",
        Certificate.Status.ISSUING: "yellow",
        Certificate.Status.FAILED: "red",
        Certificate.Status.ISSUED: "green",
        Certificate.Status.REVOKED: "red",
        Certificate.Status.REPLACED: "neutral",
    },
)
