"""Back office for the environment's master data (R6.11): rooms, their requirements and the
sensors are edited here by the administrator; every save is audited (AuditedModel). Readings
and aggregates are a measurement stream and are not shown; ingestion counters are read-only."""

from django.contrib import admin

from metrolab.core.admin import ViewOnlyAdmin
from metrolab.environment.models import (
    Actuator,
    Alarm,
    Command,
    ControlRule,
    IngestCounter,
    Requirement,
    Room,
    Sensor,
)


class RequirementInline(admin.TabularInline):
    model = Requirement
    extra = 0
    fields = [
        "quantity",
        "low",
        "high",
        "unit",
        "method",
        "alarm",
        "hysteresis",
        "alarm_delay_seconds",
        "note",
    ]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "discipline", "active"]
    list_filter = ["active", "kind"]
    search_fields = ["code", "name"]
    inlines = [RequirementInline]

    def has_delete_permission(self, request, obj=None):
        # Rooms named in conditions of records stay (retire them with "active" instead).
        return False


@admin.register(Requirement)
class RequirementAdmin(admin.ModelAdmin):
    list_display = [
        "room",
        "quantity",
        "low",
        "high",
        "unit",
        "method",
        "alarm",
        "hysteresis",
        "alarm_delay_seconds",
    ]
    list_filter = ["quantity", "room"]
    search_fields = ["room__code", "room__name", "note"]


@admin.register(Sensor)
class SensorAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "room",
        "quantity",
        "unit",
        "protocol",
        "device",
        "correction",
        "uncertainty",
        "calibration_due",
        "active",
        "last_time",
    ]
    list_filter = ["active", "protocol", "quantity", "room"]
    search_fields = ["code", "name", "address"]
    readonly_fields = ["last_time", "last_value"]

    def has_delete_permission(self, request, obj=None):
        # A sensor with readings is protected anyway; retire it with "active".
        return False


@admin.register(IngestCounter)
class IngestCounterAdmin(ViewOnlyAdmin):
    list_display = ["device", "channel", "accepted", "rejected", "last_seen", "last_rejection"]
    list_filter = ["channel"]


@admin.register(Actuator)
class ActuatorAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "room", "kind", "protocol", "on", "setpoint", "active"]
    list_filter = ["active", "kind", "protocol", "room"]
    search_fields = ["code", "name", "address"]
    # The state changes only through commands (audited with their reason).
    readonly_fields = ["on", "setpoint"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ControlRule)
class ControlRuleAdmin(admin.ModelAdmin):
    list_display = ["room", "quantity", "actuator", "mode", "low", "high", "hysteresis", "active"]
    list_filter = ["active", "mode", "quantity", "room"]


@admin.register(Alarm)
class AlarmAdmin(ViewOnlyAdmin):
    list_display = ["raised_at", "room", "sensor", "kind", "status", "value", "cleared_at"]
    list_filter = ["status", "kind", "room"]


@admin.register(Command)
class CommandAdmin(ViewOnlyAdmin):
    list_display = ["issued_at", "actuator", "action", "value", "source", "status", "reason"]
    list_filter = ["status", "source", "action"]
