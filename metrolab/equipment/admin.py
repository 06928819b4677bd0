"""Back office for equipment (R6.5, R6.8a): read-only views of the register, calibrations
with their points, intermediate checks, logs, bookings, locations and measurement standards.
They change only through their services (metrolab.equipment.services), which enforce the
rules (status changes with a reason, confirmation, booking overlaps) and audit every write."""

from django.contrib import admin

from metrolab.core.admin import ViewOnlyAdmin
from metrolab.equipment.models import (
    Booking,
    CalibrationPoint,
    Equipment,
    EquipmentCalibration,
    IntermediateCheckPlan,
    IntermediateCheckResult,
    LocationEvent,
    MaintenanceRecord,
    MeasurementStandard,
    UsageRecord,
)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CalibrationPointInline(_ReadOnlyInline):
    model = CalibrationPoint
    fields = ["nominal", "unit", "correction", "expanded_uncertainty", "coverage_factor"]
    readonly_fields = fields


class CalibrationInline(_ReadOnlyInline):
    model = EquipmentCalibration
    fields = ["certificate_no", "body", "date", "due_date", "confirmed_at", "confirmed_by"]
    readonly_fields = fields
    show_change_link = True


class CheckResultInline(_ReadOnlyInline):
    model = IntermediateCheckResult
    fields = ["date", "value", "passed", "rules_broken", "performed_by", "note"]
    readonly_fields = fields


@admin.register(Equipment)
class EquipmentAdmin(ViewOnlyAdmin):
    list_display = [
        "asset_no",
        "name",
        "kind",
        "model",
        "serial_no",
        "status",
        "location",
        "custodian",
    ]
    list_filter = ["status", "kind", "discipline"]
    search_fields = ["asset_no", "name", "model", "serial_no", "manufacturer", "rfid_uid"]
    inlines = [CalibrationInline]


@admin.register(EquipmentCalibration)
class EquipmentCalibrationAdmin(ViewOnlyAdmin):
    list_display = ["equipment", "certificate_no", "body", "date", "due_date", "confirmed_at"]
    list_filter = ["date", "due_date"]
    search_fields = ["certificate_no", "body", "equipment__asset_no", "equipment__name"]
    date_hierarchy = "date"
    inlines = [CalibrationPointInline]


@admin.register(IntermediateCheckPlan)
class IntermediateCheckPlanAdmin(ViewOnlyAdmin):
    list_display = [
        "equipment",
        "quantity",
        "unit",
        "interval_days",
        "reference_value",
        "lower_limit",
        "upper_limit",
        "active",
    ]
    list_filter = ["active"]
    search_fields = ["equipment__asset_no", "quantity"]
    inlines = [CheckResultInline]


@admin.register(IntermediateCheckResult)
class IntermediateCheckResultAdmin(ViewOnlyAdmin):
    list_display = ["plan", "date", "value", "passed", "rules_broken", "performed_by"]
    list_filter = ["passed", "date"]
    search_fields = ["plan__equipment__asset_no", "plan__quantity"]


@admin.register(MaintenanceRecord)
class MaintenanceRecordAdmin(ViewOnlyAdmin):
    list_display = ["equipment", "kind", "date", "by"]
    list_filter = ["kind", "date"]
    search_fields = ["equipment__asset_no", "description", "outcome"]


@admin.register(UsageRecord)
class UsageRecordAdmin(ViewOnlyAdmin):
    list_display = ["equipment", "user", "started_at", "ended_at", "source", "task"]
    list_filter = ["source"]
    search_fields = ["equipment__asset_no", "user__username", "note"]
    date_hierarchy = "started_at"


@admin.register(Booking)
class BookingAdmin(ViewOnlyAdmin):
    list_display = ["equipment", "user", "starts_at", "ends_at", "purpose", "cancelled"]
    list_filter = ["cancelled"]
    search_fields = ["equipment__asset_no", "user__username", "purpose"]
    date_hierarchy = "starts_at"


@admin.register(LocationEvent)
class LocationEventAdmin(ViewOnlyAdmin):
    list_display = ["equipment", "location", "at", "source", "reader", "by"]
    list_filter = ["source"]
    search_fields = ["equipment__asset_no", "location", "reader"]


@admin.register(MeasurementStandard)
class MeasurementStandardAdmin(ViewOnlyAdmin):
    list_display = [
        "name",
        "certificate_no",
        "certificate_expiry",
        "measurands",
        "range_text",
        "active",
    ]
    list_filter = ["active", "discipline"]
    search_fields = ["name", "certificate_no", "measurands"]
    filter_horizontal = ["equipment", "methods"]
