"""Root URL map: the pages of each app, the JSON API and the back office."""

from django.contrib import admin
from django.urls import include, path

from config.api import api
from metrolab.core.views import favicon, set_language

urlpatterns = [
    path("api/v1/", api.urls),
    path("favicon.ico", favicon, name="favicon"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("calculator/", include("metrolab.calculator.urls")),
    path("customers/", include("metrolab.customers.urls")),
    path("commissions/", include("metrolab.commissions.urls")),
    path("items/", include("metrolab.items.urls")),
    path("tasks/", include("metrolab.tasks.urls")),
    path("notifications/", include("metrolab.notifications.urls")),
    path("methods/", include("metrolab.methods.urls")),
    path("equipment/", include("metrolab.equipment.urls")),
    path("qualifications/", include("metrolab.qualifications.urls")),
    path("risk/", include("metrolab.risk.urls")),
    path("environment/", include("metrolab.environment.urls")),
    # Before any other records/ pages: "templates/" is not a record.
    path("records/templates/", include("metrolab.records.template_urls")),
    path("records/", include("metrolab.records.urls")),
    path("instruments/procedures/", include("metrolab.instruments.procedure_urls")),
    path("certificates/", include("metrolab.certificates.urls")),
    path("instruments/connections/", include("metrolab.instruments.connection_urls")),
    path("instruments/", include("metrolab.instruments.urls")),
    path("verify/", include("metrolab.certificates.public_urls")),
    path("", include("metrolab.core.urls")),
]
