"""`{% verdict_badge %}`: the badge of a computed verdict or state (R6.11).

    {% load verdicts %}
    {% verdict_badge state of="room" class="state-badge" name="state" testid="room-state" %}
    {% verdict_badge row.verdict class="verdict" name="verdict" %}

renders the shared badge (core/_badge.html) with the tone and the label that
`environment.selectors.verdict_badge` gives: the one home of a verdict's colour.
"""

from __future__ import annotations

from django import template

from metrolab.environment import selectors

register = template.Library()


@register.inclusion_tag("core/_badge.html")
def verdict_badge(value, *, of="requirement", name="verdict", testid="", **attrs):
    """`of="room"` labels a room's state ("within requirements"), otherwise a requirement's
    verdict ("within")."""
    labels = selectors.STATE_LABELS if of == "room" else selectors.VERDICT_LABELS
    tone, label = selectors.verdict_badge(value, labels)
    classes = " ".join(c for c in (attrs.get("class", ""), "" if tone == "neutral" else tone) if c)
    return {"classes": classes, "name": name, "value": value, "label": label, "testid": testid}
