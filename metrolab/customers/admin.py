"""Back office for customers (master data). Writes through the admin are audited by the models,
with the signed-in administrator as the actor. Portal accounts are opened on the customer's
page (a user with the customer role is created with them), so the admin only shows them."""

from django.contrib import admin

from metrolab.core.admin import ViewOnlyAdmin
from metrolab.customers.models import Contact, Customer, Instrument, PortalAccount


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = [
        "name",
        "phone",
        "email",
        "wechat_id",
        "is_primary",
        "notify_sms",
        "notify_email",
        "notify_wechat",
    ]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "settlement", "credit_limit", "active"]
    list_filter = ["active", "settlement"]
    search_fields = ["code", "name", "credit_code", "contacts__name", "contacts__phone"]
    inlines = [ContactInline]

    def has_delete_permission(self, request, obj=None):
        # Commissions refer to customers; deactivate instead of deleting.
        return False


@admin.register(PortalAccount)
class PortalAccountAdmin(ViewOnlyAdmin):
    list_display = ["user", "customer", "contact"]
    search_fields = ["user__username", "customer__name", "customer__code"]


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ["name", "serial_no", "customer", "last_service_date", "next_due_date"]
    list_filter = ["next_due_date"]
    search_fields = ["name", "serial_no", "customer__name", "customer__code"]
    readonly_fields = ["reminder_sent_for"]
    autocomplete_fields = ["customer"]
