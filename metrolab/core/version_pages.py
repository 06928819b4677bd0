"""What the pages of a reviewed version (core/versions.py: record templates, procedures) share:
a step of its life posted from the version's page (submit, review, approve)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.shortcuts import redirect

from metrolab.core.refusals import refusal_on_form
from metrolab.core.service import ServiceError


def version_step(
    request,
    version: Any,
    form_class: type,
    call: Callable[[Any, dict], Any],
    *,
    success: str,
    done: str,
    page: Callable[..., Any],
    form_name: str,
):
    """Take a step posted from a version's page: `call(version, cleaned_data)`; done, a
    message and a redirect to `done`; refused (or a form not valid), the version's page
    again (422) with the form and the refusal on it."""
    form = form_class(request.POST)
    if form.is_valid():
        try:
            call(version, form.cleaned_data)
        except ServiceError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, success)
            return redirect(done)
    version.refresh_from_db()
    return page(request, version, status=422, **{form_name: form})
