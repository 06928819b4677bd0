"""Template filters of the record pages and of the pages linking to records.

    {% load record_links %}
    {% with record=task|open_record %}…{% endwith %}   the task's open record, or None
    {{ template_label|tlabel }}                       a template's {"zh", "en"} label

`open_record` reads `task.records.all()`: the list prefetches it ("my tasks")."""

from __future__ import annotations

from django import template

from metrolab.records import entry
from metrolab.records.services.records import OPEN

register = template.Library()


@register.filter
def open_record(task):
    """The task's record in progress (draft, submitted or checked), or None."""
    found = [r for r in task.records.all() if r.status in OPEN]
    return max(found, key=lambda r: r.pk) if found else None


@register.filter
def tlabel(value) -> str:
    return entry.label(value)
