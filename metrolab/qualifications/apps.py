from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualificationsConfig(AppConfig):
    """The scope, staff qualifications and the one eligibility service (R6.8, R6.7d)."""

    name = "metrolab.qualifications"
    label = "qualifications"
    verbose_name = _("Qualifications")

    def ready(self):
        from metrolab.core.context_processors import NavItem, register_modules
        from metrolab.core.demo import register_demo
        from metrolab.methods import selectors as method_selectors
        from metrolab.qualifications import demo, selectors

        # "My methods" include those of the person's valid authorisations (R6.7b).
        if selectors.authorised_methods not in method_selectors.method_sources:
            method_selectors.method_sources.append(selectors.authorised_methods)
        # The demo's methods, equipment and qualification libraries, after the commissions.
        register_demo(demo.demo_seed_libraries, order=30)

        register_modules(
            NavItem("qualifications:items", _("Authorised items"), "§"),
            NavItem("qualifications:people", _("Staff qualifications"), "♙"),
            NavItem("qualifications:mine", _("My qualifications"), "★"),
        )
