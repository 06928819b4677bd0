"""Electronic original records (R6.2, T/CMA CC045-2020) and the templates they are made from.

- `RecordTemplate` / `TemplateVersion`: a template is data (the format of
  `metrolab.metrology.record_template`, documented in docs/record-templates.md); each version
  is reviewed and approved before records use it, and never changes once approved (R6.2d).
- `Record`: made from a started task, pinned to one approved template version, the method
  version, the equipment used with its calibration data in force that day (`RecordEquipment`)
  and the room; the environmental conditions over the measurement are stored with it. Its
  cells are the values typed (by people or instruments), its results what the template
  computed from them.
- `RecordChange`: every change of a cell after the record was first saved — old, new, who,
  when, the reason (R6.2c: modification traces and process replay).
- `RecordTransition`: every move of the record's status (submitted, returned with a reason,
  checked, approved, cancelled, amended).
- `RecordSignature`: a signature manifest (21 CFR 11.50 as the model): printed name, time,
  meaning, bound to a digest of the record's content (R4.4).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from metrolab.commissions.choices import Service
from metrolab.core.components import register_tones
from metrolab.core.models import AuditedModel
from metrolab.core.text import CODE, NAME, REASON, SHORT_TEXT
from metrolab.core.versions import ReviewedVersion

# Records are kept this many years unless their template says otherwise (R6.12a).
DEFAULT_RETENTION_YEARS = 6


class RecordTemplate(AuditedModel):
    """A kind of record (e.g. JJG 52-2013 pressure gauge verification): its versions hold the
    definition; its retention period applies to every record made from it."""

    code = models.CharField(_("code"), max_length=CODE, unique=True)
    title = models.CharField(_("title"), max_length=NAME)
    service = models.CharField(_("service"), max_length=16, choices=Service)
    discipline = models.ForeignKey(
        "commissions.Discipline",
        verbose_name=_("discipline"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    retention_years = models.PositiveSmallIntegerField(
        _("retention period (years)"),
        default=DEFAULT_RETENTION_YEARS,
        help_text=_("Records made from this template cannot be deleted before it ends."),
    )
    builtin = models.BooleanField(_("built in"), default=False)

    class Meta:
        verbose_name = _("record template")
        verbose_name_plural = _("record templates")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.title}"


class TemplateVersion(ReviewedVersion):
    """One version of a template's definition. Drafts are edited in the designer; a version
    in review is checked by a second person and approved by the technical manager; only an
    approved version makes records; it is never edited again (a change is a new version).
    The fields and the life are those every reviewed definition shares (core/versions.py)."""

    template = models.ForeignKey(
        RecordTemplate,
        verbose_name=_("template"),
        on_delete=models.PROTECT,
        related_name="versions",
    )

    builtin_note_shown = _("Built in: approved when the built-in templates were loaded")

    class Meta:
        verbose_name = _("template version")
        verbose_name_plural = _("template versions")
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "number"], name="record_template_version_unique"
            )
        ]

    def __str__(self):
        return f"{self.template.code} v{self.number}"


class Record(AuditedModel):
    """An original record (原始记录) of one task's measurement."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted for check")
        CHECKED = "checked", _("checked")
        APPROVED = "approved", _("approved and locked")
        CANCELLED = "cancelled", _("cancelled")
        SUPERSEDED = "superseded", _("superseded by an amendment")

    number = models.CharField(_("record number"), max_length=CODE, unique=True)
    task = models.ForeignKey(
        "tasks.Task", verbose_name=_("task"), on_delete=models.PROTECT, related_name="records"
    )
    template_version = models.ForeignKey(
        TemplateVersion,
        verbose_name=_("template version"),
        on_delete=models.PROTECT,
        related_name="records",
    )
    method = models.ForeignKey(
        "methods.Method",
        verbose_name=_("method"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    room = models.ForeignKey(
        "environment.Room",
        verbose_name=_("room"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status, default=Status.DRAFT, db_index=True
    )
    # An amendment after approval is a new record linked to the one it corrects.
    amends = models.ForeignKey(
        "self",
        verbose_name=_("amends"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="amendments",
    )
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    # The values typed: cell id → text (metrolab.metrology.record_template cells).
    cells = models.JSONField(_("values entered"), default=dict, blank=True)
    # What the template computed from them (Evaluation.as_json()).
    results = models.JSONField(_("results"), default=dict, blank=True)
    decision = models.CharField(_("decision"), max_length=20, blank=True)
    complete = models.BooleanField(_("complete"), default=False)
    # Frozen at creation: item, commission, customer, method as the header shows them.
    context = models.JSONField(_("header data"), default=dict, blank=True)
    # The environmental conditions over the measurement, stored with the record (raw readings
    # are deleted after 31 days; the record shows them for as long as it is kept).
    conditions = models.JSONField(_("environmental conditions"), default=dict, blank=True)
    conditions_held = models.BooleanField(_("conditions held"), null=True)
    measured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("measured by"),
        on_delete=models.PROTECT,
        related_name="records_measured",
    )
    started_at = models.DateTimeField(_("started at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    retain_until = models.DateField(_("kept until"), null=True, blank=True)

    class Meta:
        verbose_name = _("original record")
        verbose_name_plural = _("original records")
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["task", "status"], name="record_task_status_idx")]

    def __str__(self):
        return self.number


class RecordEquipment(AuditedModel):
    """A piece of equipment a record was made with, in a role of the template (standard,
    reference, auxiliary), with the calibration in force that day as it then stood."""

    record = models.ForeignKey(
        Record, verbose_name=_("record"), on_delete=models.CASCADE, related_name="equipment_used"
    )
    equipment = models.ForeignKey(
        "equipment.Equipment",
        verbose_name=_("equipment"),
        on_delete=models.PROTECT,
        related_name="record_uses",
    )
    role = models.CharField(_("role"), max_length=CODE, blank=True)
    calibration = models.ForeignKey(
        "equipment.EquipmentCalibration",
        verbose_name=_("calibration in force"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Certificate number, due date and the points (corrections, U, k) as they were that day.
    snapshot = models.JSONField(_("calibration data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("equipment used")
        verbose_name_plural = _("equipment used")
        ordering = ["record", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["record", "equipment"], name="record_equipment_unique")
        ]


class RecordChange(AuditedModel):
    """One change of one cell after the record was first saved (R6.2c)."""

    record = models.ForeignKey(
        Record, verbose_name=_("record"), on_delete=models.PROTECT, related_name="changes"
    )
    cell = models.CharField(_("field"), max_length=NAME)
    old = models.CharField(_("old value"), max_length=SHORT_TEXT, blank=True)
    new = models.CharField(_("new value"), max_length=SHORT_TEXT, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"), db_index=True)
    status = models.CharField(_("record status then"), max_length=10, choices=Record.Status)
    reason = models.TextField(_("reason"), max_length=REASON, blank=True)
    # Where the value came from: typed on the page, the API (a person's or a device's token).
    source = models.CharField(_("source"), max_length=CODE, blank=True)
    # For a reading an instrument took in a procedure run (R8b): the instrument's identity
    # (manufacturer, model, serial number), its role and the run; `at` is then the moment
    # the instrument took the reading.
    instrument = models.CharField(_("instrument"), max_length=NAME, blank=True)

    class Meta:
        verbose_name = _("record change")
        verbose_name_plural = _("record changes")
        ordering = ["record", "at", "pk"]


class RecordTransition(AuditedModel):
    """One move of a record's status, with who, when and why (a return needs a reason)."""

    record = models.ForeignKey(
        Record, verbose_name=_("record"), on_delete=models.PROTECT, related_name="transitions"
    )
    source = models.CharField(_("from"), max_length=10, choices=Record.Status, blank=True)
    target = models.CharField(_("to"), max_length=10, choices=Record.Status)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"))
    reason = models.TextField(_("reason"), max_length=REASON, blank=True)

    class Meta:
        verbose_name = _("record status change")
        verbose_name_plural = _("record status changes")
        ordering = ["record", "at", "pk"]


class RecordSignature(AuditedModel):
    """A signature manifest (21 CFR 11.50): who (printed name), when, what it means; bound to
    the SHA-256 of the record's content when signed, so a later change shows it invalid."""

    class Meaning(models.TextChoices):
        MEASURED = "measured", _("measured (检定/校准员)")
        CHECKED = "checked", _("checked (核验员)")
        APPROVED = "approved", _("approved (批准人)")

    record = models.ForeignKey(
        Record, verbose_name=_("record"), on_delete=models.PROTECT, related_name="signatures"
    )
    meaning = models.CharField(_("meaning"), max_length=10, choices=Meaning)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signer"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    printed_name = models.CharField(_("printed name"), max_length=NAME)
    signed_at = models.DateTimeField(_("signed at"))
    content_digest = models.CharField(_("SHA-256 of the content signed"), max_length=64)
    # How the signer proved who they were (password, TOTP).
    authenticated_by = models.CharField(_("authenticated by"), max_length=CODE)
    revoked_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    revoked_reason = models.CharField(_("why withdrawn"), max_length=SHORT_TEXT, blank=True)

    class Meta:
        verbose_name = _("record signature")
        verbose_name_plural = _("record signatures")
        ordering = ["record", "signed_at", "pk"]


class RecordNumberCounter(AuditedModel):
    """The last record number given in a year (numbers "JL" + year + six digits): one row per
    year, locked while a number is taken, so that concurrent records never share one."""

    year = models.PositiveIntegerField(_("year"), unique=True)
    last = models.PositiveIntegerField(_("last sequence"), default=0)

    class Meta:
        verbose_name = _("record number counter")
        verbose_name_plural = _("record number counters")

    def __str__(self):
        return f"{self.year}: {self.last}"


register_tones(
    Record.Status,
    {
        Record.Status.DRAFT: "neutral",
        Record.Status.SUBMITTED: "yellow",
        Record.Status.CHECKED: "yellow",
        Record.Status.APPROVED: "green",
        Record.Status.CANCELLED: "red",
        Record.Status.SUPERSEDED: "neutral",
    },
)
