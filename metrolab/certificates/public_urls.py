"""The public certificate verification (R9.1), at /verify/: no sign-in."""

from django.urls import path

from metrolab.certificates import public_views

app_name = "verify"

urlpatterns = [
    path("", public_views.verify_form, name="form"),
    path("<str:identifier>/", public_views.verify_link, name="link"),
]
