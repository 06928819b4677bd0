from django.urls import path

from metrolab.records import views

app_name = "records"

urlpatterns = [
    path("", views.record_list, name="list"),
    path("task/<int:task_pk>/new/", views.record_create, name="create"),
    path("<int:pk>/", views.record_detail, name="detail"),
    path("<int:pk>/roles/", views.record_roles, name="roles"),
    path("<int:pk>/sign/<str:step>/", views.record_sign, name="sign"),
    path("<int:pk>/step/<str:step>/", views.record_step, name="step"),
    path("<int:pk>/history/", views.record_history, name="history"),
    path("<int:pk>/archive.pdf", views.record_archive, name="archive"),
]
