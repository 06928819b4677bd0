"""`/instruments/connections/<equipment_id>/...`: a piece of equipment's instrument connection
from its card (R8a)."""

from django.urls import path

from metrolab.instruments import connection_views as views

app_name = "instrument_connections"

urlpatterns = [
    path("<int:equipment_id>/", views.connection_edit, name="edit"),
    path("<int:equipment_id>/identify/", views.connection_identify, name="identify"),
    path("<int:equipment_id>/self-test/", views.connection_self_test, name="self_test"),
    path("<int:equipment_id>/checks/", views.connection_checks, name="checks"),
]
