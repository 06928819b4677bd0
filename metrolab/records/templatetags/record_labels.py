"""Filters for the words of a record's codes (metrolab.records.labels)."""

from django import template

from metrolab.records import labels

register = template.Library()

register.filter("role_label", labels.role_label)
register.filter("auth_label", labels.authentication_label)
register.filter("quantity_label", labels.quantity_label)
register.filter("token_text", labels.token_text)
