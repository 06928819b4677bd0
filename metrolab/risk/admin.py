"""Risk in the back office: shown, changed only through the services."""

from django.contrib import admin

from metrolab.core.admin import ViewOnlyAdmin
from metrolab.risk.models import ImpactReview, RiskAlertSent


@admin.register(ImpactReview)
class ImpactReviewAdmin(ViewOnlyAdmin):
    list_display = ["pk", "equipment", "period_start", "period_end", "state", "opened_by"]
    list_filter = ["state"]
    search_fields = ["equipment__asset_no", "equipment__name", "reason"]


@admin.register(RiskAlertSent)
class RiskAlertSentAdmin(ViewOnlyAdmin):
    list_display = ["key", "due", "horizon", "created_at"]
    search_fields = ["key"]
