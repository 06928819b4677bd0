from django.urls import path

from metrolab.qualifications import views

app_name = "qualifications"

urlpatterns = [
    path("", views.item_list, name="items"),
    path("items/new/", views.item_create, name="item_create"),
    path("items/<int:pk>/", views.item_detail, name="item_detail"),
    path("items/<int:pk>/edit/", views.item_edit, name="item_edit"),
    path("people/", views.people_list, name="people"),
    path("me/", views.my_qualifications, name="mine"),
    path("people/<int:pk>/", views.person_detail, name="person"),
    path("people/<int:pk>/profile/", views.profile_edit, name="profile_edit"),
    path("people/<int:pk>/certificates/new/", views.certificate_create, name="certificate_create"),
    path("people/<int:pk>/training/new/", views.training_create, name="training_create"),
    path("certificates/<int:pk>/edit/", views.certificate_edit, name="certificate_edit"),
    path("certificates/<int:pk>/file/", views.certificate_file, name="certificate_file"),
    path("authorisations/new/", views.authorisation_create, name="authorisation_create"),
    path(
        "authorisations/<int:pk>/revoke/", views.authorisation_revoke, name="authorisation_revoke"
    ),
]
