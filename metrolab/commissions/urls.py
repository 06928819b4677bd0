from django.urls import path

from metrolab.commissions import views

app_name = "commissions"

urlpatterns = [
    path("", views.commission_list, name="list"),
    path("new/", views.commission_create, name="create"),
    path("apply/", views.commission_apply, name="apply"),
    path("arrivals/", views.arrivals, name="arrivals"),
    path("status/", views.public_status, name="public_status"),
    path("<int:pk>/", views.commission_detail, name="detail"),
    path("<int:pk>/receipt/", views.commission_receipt, name="receipt"),
    path("<int:pk>/review/", views.commission_review, name="review"),
    path("<int:pk>/cancel/", views.commission_cancel, name="cancel"),
]
