"""Back office for notifications (R6.1c): customers' webhook endpoints; the log, read-only."""

from django.contrib import admin

from metrolab.notifications.models import Delivery, Notification, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "customer", "active", "description")
    list_filter = ("active",)
    search_fields = ("url", "customer__name", "customer__code")
    raw_id_fields = ("customer",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """The log is written by the notification services only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event", "subject", "recipient", "read_at")
    list_filter = ("event",)
    search_fields = ("subject", "related_id")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "channel", "target", "status", "attempts", "sent_at")
    list_filter = ("channel", "status")
    search_fields = ("target",)
