from django.urls import path

from metrolab.equipment import views

app_name = "equipment"

urlpatterns = [
    path("", views.equipment_list, name="list"),
    path("new/", views.equipment_create, name="create"),
    path("calendar/", views.calendar, name="calendar"),
    path("bookings/", views.booking_add, name="booking_add"),
    path("bookings/<int:pk>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("standards/", views.standard_list, name="standards"),
    path("standards/new/", views.standard_create, name="standard_create"),
    path("standards/<int:pk>/", views.standard_detail, name="standard_detail"),
    path("standards/<int:pk>/edit/", views.standard_edit, name="standard_edit"),
    path("standards/<int:pk>/certificate/", views.standard_file, name="standard_file"),
    path("calibrations/<int:pk>/confirm/", views.calibration_confirm, name="calibration_confirm"),
    path("calibrations/<int:pk>/certificate/", views.calibration_file, name="calibration_file"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/results/", views.result_add, name="result_add"),
    path("usage/<int:pk>/close/", views.usage_close, name="usage_close"),
    path("<int:pk>/", views.equipment_detail, name="detail"),
    path("<int:pk>/edit/", views.equipment_edit, name="edit"),
    path("<int:pk>/status/", views.equipment_status, name="status"),
    path("<int:pk>/location/", views.equipment_locate, name="locate"),
    path("<int:pk>/calibrations/new/", views.calibration_add, name="calibration_add"),
    path("<int:pk>/plans/new/", views.plan_add, name="plan_add"),
    path("<int:pk>/maintenance/", views.maintenance_add, name="maintenance_add"),
    path("<int:pk>/usage/", views.usage_log, name="usage"),
    path("<int:pk>/usage/new/", views.usage_add, name="usage_add"),
]
