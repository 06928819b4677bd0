from django.urls import path

from metrolab.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("mine/", views.my_organisation, name="mine"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/delete/", views.customer_delete, name="delete"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path(
        "contacts/<int:pk>/portal-account/",
        views.portal_account_create,
        name="portal_account_create",
    ),
    path("instruments/", views.instrument_list, name="instruments"),
    path("instruments/due/", views.instruments_due, name="due"),
    path("instruments/<int:pk>/edit/", views.instrument_edit, name="instrument_edit"),
]
