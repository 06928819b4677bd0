"""Tasks in the back office: shown, changed only through the services."""

from django.contrib import admin

from metrolab.core.admin import ViewOnlyAdmin
from metrolab.tasks.models import Task


@admin.register(Task)
class TaskAdmin(ViewOnlyAdmin):
    list_display = ["item", "service", "status", "assignee", "due_date"]
    list_filter = ["status", "service"]
    search_fields = ["item__number", "item__name"]
