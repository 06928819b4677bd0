from django.urls import path

from metrolab.methods import views

app_name = "methods"

# Fixed paths first; methods are addressed by their integer primary key.
urlpatterns = [
    path("", views.method_list, name="list"),
    path("new/", views.method_create, name="create"),
    path("mine/", views.mine, name="mine"),
    path("categories/", views.category_list, name="categories"),
    path("categories/<int:pk>/", views.category_edit, name="category_edit"),
    path("deviations/", views.deviation_list, name="deviations"),
    path("deviations/request/", views.deviation_request_pick, name="deviation_request_pick"),
    path("deviations/request/<int:pk>/", views.deviation_request, name="deviation_request"),
    path("deviations/<int:pk>/", views.deviation_detail, name="deviation_detail"),
    path("deviations/<int:pk>/decide/", views.deviation_decide, name="deviation_decide"),
    path("deviations/<int:pk>/respond/", views.deviation_respond, name="deviation_respond"),
    path(
        "deviations/<int:pk>/acceptance/", views.deviation_acceptance, name="deviation_acceptance"
    ),
    path("deviations/<int:pk>/file/", views.deviation_file, name="deviation_file"),
    path("<int:pk>/", views.method_detail, name="detail"),
    path("<int:pk>/edit/", views.method_edit, name="edit"),
    path("<int:pk>/file/", views.method_file, name="file"),
]
