"""How pages show a refusal: a service's ServiceError on the form (on its field when the form
has it), or as a message above the page; and a bound form's errors as messages (for forms
posted from a card that redirects back)."""

from __future__ import annotations

from django.contrib import messages

from metrolab.core.service import ServiceError


def refusal_on_form(form, exc: ServiceError) -> None:
    """Show a service's refusal on the form: each error on its field when the form has it
    (every field at fault at once, for a refusal from core.validation)."""
    if len(exc.errors) > 1 or any(len(messages) > 1 for messages in exc.errors.values()):
        for name, messages in exc.errors.items():
            for message in messages:
                form.add_error(name if name in form.fields else None, message)
        return
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def refusal_message(request, exc: ServiceError) -> None:
    messages.error(request, exc.message)


def form_error_messages(request, form) -> None:
    """Each error of a bound form as a message, prefixed with its field's label."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def card_write(request, form, write, *, success) -> None:
    """A form posted from a card that redirects back: when the form is valid, call
    `write(cleaned_data)` (a service); show the form's errors, the service's refusal, or the
    success message (`success(result)` when callable) as messages. Nothing is written on a
    refusal (the service's transaction)."""
    if not form.is_valid():
        form_error_messages(request, form)
        return
    try:
        result = write(form.cleaned_data)
    except ServiceError as exc:
        refusal_message(request, exc)
        return
    messages.success(request, success(result) if callable(success) else success)
