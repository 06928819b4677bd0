from django.urls import path

from metrolab.tasks import views

app_name = "tasks"

urlpatterns = [
    path("", views.my_tasks, name="mine"),
    path("assign/", views.assign_page, name="assign"),
    path("assign/many/", views.assign_many, name="assign_many"),
    path("<int:pk>/assign/", views.assign, name="assign_task"),
    path("<int:pk>/start/", views.start, name="start"),
]
