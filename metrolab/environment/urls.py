"""Environment pages, mounted at /environment/."""

from django.urls import path

from metrolab.environment import views

app_name = "environment"

urlpatterns = [
    path("", views.rooms, name="rooms"),
    path("rooms/<int:pk>/", views.room, name="room"),
    path("rooms/<int:pk>/command/", views.room_command, name="room_command"),
    path("alarms/", views.alarm_list, name="alarms"),
    path("alarms/<int:pk>/acknowledge/", views.alarm_acknowledge, name="alarm_acknowledge"),
    path("commands/", views.command_list, name="commands"),
    path("devices/", views.devices, name="devices"),
]
