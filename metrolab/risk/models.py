"""Risk (R4.5): impact reviews opened on the work that used equipment over a period, e.g.
after it was found out of tolerance (reverse traceability)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from metrolab.core.components import register_tones
from metrolab.core.models import AuditedModel
from metrolab.core.text import DOCUMENT_TEXT, NOTE


class ImpactReview(AuditedModel):
    """An impact review (影响评估) by the quality manager of every task (and, through them,
    record and certificate) that used an item of equipment between two times."""

    class State(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    equipment = models.ForeignKey(
        "equipment.Equipment",
        verbose_name=_("equipment"),
        on_delete=models.PROTECT,
        related_name="impact_reviews",
    )
    period_start = models.DateTimeField(_("from"))
    period_end = models.DateTimeField(_("until"))
    reason = models.TextField(_("reason"), max_length=NOTE)
    state = models.CharField(_("state"), max_length=6, choices=State, default=State.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    tasks = models.ManyToManyField(
        "tasks.Task", verbose_name=_("affected tasks"), blank=True, related_name="impact_reviews"
    )
    # What the reverse traceability listed when the review was opened (tasks, usage records
    # and, once those modules exist, records and certificates), frozen as it was then.
    snapshot = models.JSONField(_("work listed at opening"), default=list, blank=True)
    conclusion = models.TextField(_("conclusion"), blank=True, max_length=DOCUMENT_TEXT)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("impact review")
        verbose_name_plural = _("impact reviews")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")),
                name="impact_review_period_ordered",
            )
        ]

    def __str__(self):
        return f"{self.equipment.asset_no} {self.period_start:%Y-%m-%d}–{self.period_end:%Y-%m-%d}"


class RiskAlertSent(AuditedModel):
    """That the daily risk notification for one thing falling due on one date was sent at a
    horizon (30 / 60 / 90 days, or 0: overdue): so it is never sent twice. Equipment never
    calibrated has no due date; it is recorded with `NO_DUE`."""

    NO_DUE = dt.date(1970, 1, 1)

    key = models.CharField(max_length=200)
    due = models.DateField()
    horizon = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name = _("risk alert sent")
        verbose_name_plural = _("risk alerts sent")
        constraints = [
            models.UniqueConstraint(fields=["key", "due", "horizon"], name="risk_alert_once")
        ]


# Badge tones (core/components.py): an open review is pending (amber), a closed one done.
register_tones(
    ImpactReview.State, {ImpactReview.State.OPEN: "yellow", ImpactReview.State.CLOSED: "green"}
)
