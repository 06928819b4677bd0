"""Public certificate verification pages (R9.1): anyone, no sign-in."""

from __future__ import annotations

from django.http import JsonResponse

from metrolab.core.access import public


@public
def verify_form(request):
    return JsonResponse({"result": "unknown"})


@public
def verify_link(request, identifier: str):
    return JsonResponse({"result": "unknown", "identifier": identifier})
