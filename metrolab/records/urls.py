from django.urls import path

from metrolab.records import views

app_name = "records"

urlpatterns = [
    path("<int:pk>/", views.record_detail, name="detail"),
]
