"""Back office for the methods library: shown read-only. Methods, instrument categories and
deviations change only through their services (the library's pages and the API), so that
dates, supersession and the deviation workflow are always checked and audited."""

from django.contrib import admin

from metrolab.core.admin import ViewOnlyAdmin
from metrolab.methods.models import Deviation, InstrumentCategory, Method


@admin.register(InstrumentCategory)
class InstrumentCategoryAdmin(ViewOnlyAdmin):
    list_display = ["code", "name", "name_en", "discipline"]
    list_filter = ["discipline"]
    search_fields = ["code", "name", "name_en"]


@admin.register(Method)
class MethodAdmin(ViewOnlyAdmin):
    list_display = [
        "code",
        "year",
        "title",
        "kind",
        "effective_date",
        "abolished_date",
        "superseded_by",
    ]
    list_filter = ["kind", "disciplines", "categories"]
    search_fields = ["code", "title", "title_en"]
    date_hierarchy = "effective_date"


@admin.register(Deviation)
class DeviationAdmin(ViewOnlyAdmin):
    list_display = ["line", "method", "state", "requested_by", "authorised_by", "acceptance"]
    list_filter = ["state", "acceptance"]
    search_fields = ["line__commission__number", "line__instrument_name", "method__code"]
    list_select_related = ["line__commission", "method", "requested_by", "authorised_by"]
