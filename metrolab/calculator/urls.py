from django.urls import path

from metrolab.calculator import views

app_name = "calculator"

urlpatterns = [
    path("uncertainty/", views.uncertainty, name="uncertainty"),
    path("evaluations/", views.evaluation_list, name="evaluations"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation"),
    path("evaluations/<int:pk>/pdf/", views.evaluation_pdf_view, name="evaluation_pdf"),
]
