"""Back office view of the qualification libraries (R6.8). They change only through their
services (the pages and the API), which enforce the rules an authorisation must meet (role
fit, the person's own certificate, dates in order) and record who did what; so the back
office shows them read-only."""

from django.contrib import admin

from metrolab.core.admin import ViewOnlyAdmin
from metrolab.qualifications.models import (
    Authorisation,
    AuthorisedItem,
    PersonnelCertificate,
    StaffProfile,
    TrainingRecord,
)


@admin.register(AuthorisedItem)
class AuthorisedItemAdmin(ViewOnlyAdmin):
    list_display = ["code", "name", "service", "measurand", "category", "cmc", "valid_until"]
    list_filter = ["service", "category__discipline", "category"]
    search_fields = ["code", "name", "measurand", "authorisation_ref"]
    filter_horizontal = ["methods"]


@admin.register(StaffProfile)
class StaffProfileAdmin(ViewOnlyAdmin):
    list_display = ["user", "employee_no", "department", "title", "joined"]
    search_fields = ["user__username", "user__display_name", "employee_no", "department"]


@admin.register(PersonnelCertificate)
class PersonnelCertificateAdmin(ViewOnlyAdmin):
    list_display = ["person", "kind", "number", "issued_by", "issue_date", "expiry_date"]
    list_filter = ["kind"]
    search_fields = ["number", "person__username", "person__display_name", "issued_by"]
    date_hierarchy = "expiry_date"


@admin.register(TrainingRecord)
class TrainingRecordAdmin(ViewOnlyAdmin):
    list_display = ["person", "date", "topic", "provider", "hours", "result"]
    search_fields = ["topic", "provider", "person__username", "person__display_name"]
    date_hierarchy = "date"


@admin.register(Authorisation)
class AuthorisationAdmin(ViewOnlyAdmin):
    list_display = ["person", "item", "capacity", "valid_from", "valid_until", "revoked"]
    list_filter = ["capacity", "revoked"]
    search_fields = ["person__username", "person__display_name", "item__code"]
