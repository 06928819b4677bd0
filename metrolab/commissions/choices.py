"""Vocabulary shared by commissions, items, tasks and later records and certificates."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from metrolab.core.components import register_tones


class Service(models.TextChoices):
    """The four services of a metrology lab (REQUIREMENTS vocabulary)."""

    VERIFICATION = "verification", _("verification (检定)")
    CALIBRATION = "calibration", _("calibration (校准)")
    TESTING = "testing", _("testing (检测)")
    INSPECTION = "inspection", _("inspection (检验)")


class CommissionStatus(models.TextChoices):
    """The status nodes of R6.1b, in order, plus cancelled."""

    APPLIED = "applied", _("applied / appointment (申请/预约)")
    ITEMS_RECEIVED = "items_received", _("items received (样品接收)")
    TASKS_ASSIGNED = "tasks_assigned", _("tasks assigned (任务下达)")
    TESTING = "testing", _("testing & data check (检测/数据核查)")
    CERTIFICATE_ISSUED = "certificate_issued", _("certificate issued (出具报告)")
    COMPLETED = "completed", _("completed (完成)")
    CANCELLED = "cancelled", _("cancelled")


STATUS_ORDER = [
    CommissionStatus.APPLIED,
    CommissionStatus.ITEMS_RECEIVED,
    CommissionStatus.TASKS_ASSIGNED,
    CommissionStatus.TESTING,
    CommissionStatus.CERTIFICATE_ISSUED,
    CommissionStatus.COMPLETED,
]

# Badge tones (core/components.py): in progress amber, completed green, cancelled red.
register_tones(
    CommissionStatus,
    {
        CommissionStatus.APPLIED: "neutral",
        CommissionStatus.ITEMS_RECEIVED: "yellow",
        CommissionStatus.TASKS_ASSIGNED: "yellow",
        CommissionStatus.TESTING: "yellow",
        CommissionStatus.CERTIFICATE_ISSUED: "yellow",
        CommissionStatus.COMPLETED: "green",
        CommissionStatus.CANCELLED: "red",
    },
)
