from django.urls import path

from metrolab.risk import views

app_name = "risk"

urlpatterns = [
    path("", views.radar, name="radar"),
    path("trace/", views.trace_page, name="trace"),
    path("reviews/", views.review_open, name="review_open"),
    path("reviews/<int:pk>/", views.review_detail, name="review_detail"),
    path("reviews/<int:pk>/close/", views.review_close, name="review_close"),
]
