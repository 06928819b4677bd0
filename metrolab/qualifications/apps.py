from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualificationsConfig(AppConfig):
    """The scope, staff qualifications and the one eligibility service (R6.8, R6.7d)."""

    name = "metrolab.qualifications"
    label = "qualifications"
    verbose_name = _("Qualifications")

    def ready(self):
        # The one eligibility service gates task assignment and start (R6.7d, R6.4e).
        from metrolab.qualifications.eligibility import assignment_check
        from metrolab.tasks import services

        if assignment_check not in services.assignment_checks:
            services.assignment_checks.append(assignment_check)

        from metrolab.core.context_processors import NavItem, register_modules

        register_modules(
            NavItem("qualifications:items", _("Authorised items"), "§"),
            NavItem("qualifications:people", _("Staff qualifications"), "♙"),
            NavItem("qualifications:mine", _("My qualifications"), "★"),
        )
