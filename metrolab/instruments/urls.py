"""The run pages (issue 16), mounted at /instruments/."""

from django.urls import path

from metrolab.instruments import views

app_name = "instruments"

urlpatterns = [
    path("runs/", views.run_list, name="run_list"),
    path("runs/new/", views.run_start, name="run_start"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/events/", views.run_events, name="run_events"),
    path("runs/<int:pk>/confirm/", views.run_confirm, name="run_confirm"),
    path("runs/<int:pk>/pause/", views.run_pause, name="run_pause"),
    path("runs/<int:pk>/resume/", views.run_resume, name="run_resume"),
    path("runs/<int:pk>/abort/", views.run_abort, name="run_abort"),
]
