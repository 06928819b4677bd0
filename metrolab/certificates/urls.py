from django.urls import path

from metrolab.certificates import views

app_name = "certificates"

urlpatterns = [
    path("", views.certificate_list, name="list"),
    path("pending/", views.certificate_pending, name="pending"),
    path("batch-issue/", views.certificate_batch_issue, name="batch_issue"),
    path("<int:pk>/", views.certificate_detail, name="detail"),
    path("<int:pk>/download/<str:fmt>/", views.certificate_file, name="download"),
    path("<int:pk>/revoke/", views.certificate_revoke, name="revoke"),
    path("<int:pk>/replace/", views.certificate_replace, name="replace"),
    path("<int:pk>/retry/", views.certificate_retry, name="retry"),
]
