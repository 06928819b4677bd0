"""Back office for the commissions' master data: disciplines, the price list and appointment
slots. Writes through the admin are audited by the models, with the signed-in administrator as
the actor. Commissions themselves change only through their services, so the admin shows them
read-only."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from metrolab.commissions import selectors
from metrolab.commissions.models import (
    AppointmentSlot,
    Commission,
    CommissionLine,
    Discipline,
    PriceListEntry,
    StatusEvent,
)
from metrolab.core.admin import ViewOnlyAdmin


@admin.register(Discipline)
class DisciplineAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(PriceListEntry)
class PriceListEntryAdmin(admin.ModelAdmin):
    list_display = ["instrument", "service", "range_text", "unit_price", "discipline", "active"]
    list_filter = ["discipline", "service", "active"]
    search_fields = ["instrument", "range_text"]


@admin.register(AppointmentSlot)
class AppointmentSlotAdmin(admin.ModelAdmin):
    list_display = ["date", "period", "discipline", "capacity", "booked"]
    list_filter = ["discipline", "period", "date"]
    date_hierarchy = "date"

    @admin.display(description=_("booked"))
    def booked(self, slot):
        return selectors.slot_booked(slot)


class CommissionLineInline(admin.TabularInline):
    model = CommissionLine
    extra = 0
    can_delete = False
    fields = ["instrument_name", "serial_no", "quantity", "service", "unit_price"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StatusEventInline(CommissionLineInline):
    model = StatusEvent
    fields = ["status", "at", "by", "note"]
    readonly_fields = fields


@admin.register(Commission)
class CommissionAdmin(ViewOnlyAdmin):
    list_display = ["number", "customer", "channel", "review", "status", "created_at"]
    list_filter = ["status", "review", "channel"]
    search_fields = ["number", "customer__name", "customer__code"]
    inlines = [CommissionLineInline, StatusEventInline]
