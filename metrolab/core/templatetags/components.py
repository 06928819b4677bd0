"""`{% badge %}`: a choice shown as a badge, its label and its colour from the choice.

    {% load components %}
    {% badge equipment "status" %}           a model field with choices
    {% badge method.status name="status" %}  a choices member
    {% badge item "state" class="big" testid="item-state" %}

renders `<span class="badge big green" data-state="moved" data-testid="item-state">已移库</span>`.
The tone (colour) is the one registered for the choice (`metrolab.core.components`);
templates never pick it. `name` is the `data-` attribute carrying the raw value (the field
name by default, "value" for a member).
"""

from __future__ import annotations

from django import template

from metrolab.core.components import member_of, tone_of

register = template.Library()


@register.inclusion_tag("core/_badge.html")
def badge(value, field=None, *, name=None, testid="", **attrs):
    member = member_of(value, field)
    tone = tone_of(member)
    classes = " ".join(c for c in (attrs.get("class", ""), "" if tone == "neutral" else tone) if c)
    return {
        "classes": classes,
        "name": name or field or "value",
        "value": member.value,
        "label": member.label,
        "testid": testid,
    }
