"""`/records/templates/...`: record templates, their versions and the designer (R6.2d)."""

from django.urls import path

from metrolab.records import template_views as views

app_name = "record_templates"

urlpatterns = [
    path("", views.template_list, name="list"),
    path("new/", views.template_create, name="create"),
    path("<int:pk>/", views.template_detail, name="detail"),
    path("<int:pk>/draft/", views.template_new_draft, name="new_draft"),
    path("<int:pk>/diff/", views.template_diff, name="diff"),
    path("<int:pk>/v<int:number>/", views.version_detail, name="version"),
    path("<int:pk>/v<int:number>/designer/", views.designer, name="designer"),
    path("<int:pk>/v<int:number>/submit/", views.version_submit, name="submit"),
    path("<int:pk>/v<int:number>/review/", views.version_review, name="review"),
    path("<int:pk>/v<int:number>/approve/", views.version_approve, name="approve"),
]
