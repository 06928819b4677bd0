from django import forms
from django.utils.translation import gettext_lazy as _

from metrolab.core.models import User


class AssignForm(forms.Form):
    """The page offers only metrologists; whether a person may take the task is decided by
    the service (`task_assignment_problems`), so its reasons reach the user."""

    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=User.objects.all())
