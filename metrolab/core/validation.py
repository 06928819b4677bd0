"""Services validate what they write through the model's own rules (R6.2c): field types,
lengths, choices, validators and constraints live on the model; `validated()` runs them all
and refuses with every field at fault at once.

    instance = Equipment(**data)
    validated(instance)            # ServiceError(errors={"name": [...], "range_max": [...]})
    instance.save()
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Model
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from metrolab.core.errors import CoreRefusal
from metrolab.core.service import ServiceError


def errors_of(exc: ValidationError) -> dict[str, list[str]]:
    """{field: [messages]} of a Django ValidationError ("" for the object as a whole)."""
    if hasattr(exc, "error_dict"):
        return {
            ("" if name == NON_FIELD_ERRORS else name): [str(m) for m in ValidationError(msgs)]
            for name, msgs in exc.error_dict.items()
        }
    return {"": [str(m) for m in exc.messages]}


def refusal(
    errors: dict[str, list[str]],
    *,
    code: str = CoreRefusal.INVALID,
    labels: dict[str, str] | None = None,
    labelled: bool = False,
) -> ServiceError:
    """One ServiceError carrying every field at fault; its message names each field by its
    label (`labels`, else the field's name). A single fault is its message alone, or
    "Label: message" with `labelled`."""
    labels = labels or {}
    first_field, first = next(iter(errors.items()))

    def named(name: str, text: str) -> str:
        return f"{labels.get(name, name)}: {text}" if name else text

    if len(errors) == 1 and len(first) == 1:
        message = named(first_field, first[0]) if labelled else first[0]
    else:
        message = _("Some values are not valid: %(fields)s.") % {
            "fields": "; ".join(named(name, " ".join(msgs)) for name, msgs in errors.items())
        }
    return ServiceError(message, code=code, field=first_field or None, errors=errors)


def labels_of(model: type[Model] | Model) -> dict[str, str]:
    """{field name: its label as users read it} of a model."""
    return {
        field.name: capfirst(str(field.verbose_name))
        for field in model._meta.get_fields()
        if hasattr(field, "verbose_name")
    }


# A fault that is another record holding the value (uniqueness, or a model's clean() naming
# it "conflict") is a conflict with the lab's current state (409), not a bad value (422).
CONFLICT_CODES = frozenset({"unique", "unique_together", "conflict"})


def code_of(exc: ValidationError) -> CoreRefusal:
    """ "conflict" when every fault is another record holding the value, else "invalid"."""
    if hasattr(exc, "error_dict"):
        codes = {e.code for errors in exc.error_dict.values() for e in errors}
    else:
        codes = {e.code for e in exc.error_list}
    return CoreRefusal.CONFLICT if codes and codes <= CONFLICT_CODES else CoreRefusal.INVALID


def validated[M: Model](
    instance: M,
    *,
    exclude: list[str] | None = None,
    unique: bool = True,
    constraints: bool = True,
    labelled: bool = False,
) -> M:
    """Run the model's full_clean (fields, clean(), uniqueness, constraints) and refuse with
    all errors at once (code "conflict" when every fault is another record holding the value).
    `labelled` names the field before a single fault's message ("Name: ...").
    `constraints=False` where the model's clean() reports a check constraint's rule on its
    field (so that it is not reported twice). Returns the instance, unchanged."""
    try:
        instance.full_clean(
            exclude=exclude, validate_unique=unique, validate_constraints=constraints
        )
    except ValidationError as exc:
        raise refusal(
            errors_of(exc), code=code_of(exc), labels=labels_of(instance), labelled=labelled
        ) from None
    return instance
