from django.urls import path

from metrolab.calculator import views

app_name = "calculator"

urlpatterns = [
    path("uncertainty/", views.uncertainty, name="uncertainty"),
]
