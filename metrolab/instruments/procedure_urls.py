"""`/instruments/procedures/...`: procedures, their versions and the edit page (R8b)."""

from django.urls import path

from metrolab.instruments import procedure_views as views

app_name = "procedures"

urlpatterns = [
    path("", views.procedure_list, name="list"),
    path("<int:pk>/", views.procedure_detail, name="detail"),
    path("<int:pk>/draft/", views.procedure_new_draft, name="new_draft"),
    path("<int:pk>/v<int:number>/", views.version_detail, name="version"),
    path("<int:pk>/v<int:number>/edit/", views.version_edit, name="edit"),
    path("<int:pk>/v<int:number>/submit/", views.version_submit, name="submit"),
    path("<int:pk>/v<int:number>/review/", views.version_review, name="review"),
    path("<int:pk>/v<int:number>/approve/", views.version_approve, name="approve"),
]
