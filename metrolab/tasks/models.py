"""Tasks: one item × one service, assigned to a person (R6.1, R6.4e)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from metrolab.commissions.choices import Service
from metrolab.core.components import register_tones
from metrolab.core.models import AuditedModel


class Task(AuditedModel):
    """The work of one service on one item, assigned to a qualified person; records
    (a later issue) hang off it."""

    class Status(models.TextChoices):
        UNASSIGNED = "unassigned", _("unassigned")
        ASSIGNED = "assigned", _("assigned")
        IN_PROGRESS = "in_progress", _("in progress")
        CHECKING = "checking", _("data check")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")

    item = models.ForeignKey(
        "items.Item", verbose_name=_("item"), on_delete=models.PROTECT, related_name="tasks"
    )
    service = models.CharField(_("service"), max_length=16, choices=Service)
    status = models.CharField(
        _("status"), max_length=12, choices=Status, default=Status.UNASSIGNED, db_index=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    due_date = models.DateField(_("due"), null=True, blank=True)
    # What the work is done under and with (R6.7d, R6.8): chosen at assignment, checked by the
    # eligibility service (metrolab.qualifications.eligibility).
    scope = models.ForeignKey(
        "qualifications.AuthorisedItem",
        verbose_name=_("authorised item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    method = models.ForeignKey(
        "methods.Method",
        verbose_name=_("method"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    standard = models.ForeignKey(
        "equipment.MeasurementStandard",
        verbose_name=_("measurement standard"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    equipment = models.ManyToManyField(
        "equipment.Equipment", verbose_name=_("equipment"), blank=True, related_name="tasks"
    )
    range_low = models.DecimalField(
        _("instrument range from"), max_digits=20, decimal_places=9, null=True, blank=True
    )
    range_high = models.DecimalField(
        _("instrument range to"), max_digits=20, decimal_places=9, null=True, blank=True
    )

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["item", "service"], name="task_item_service_unique")
        ]
        indexes = [models.Index(fields=["assignee", "status"], name="task_assignee_idx")]

    def __str__(self):
        return f"{self.item.number} {self.get_service_display()}"


# Badge tones (core/components.py): a task's status is shown plain.
register_tones(Task.Status, dict.fromkeys(Task.Status, "neutral"))
