from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommissionsConfig(AppConfig):
    """Commissions (委托单): lines, price list, appointment slots, contract review and the
    status nodes (R6.1a-b, R6.12b)."""

    name = "metrolab.commissions"
    label = "commissions"
    verbose_name = _("Commissions")

    def ready(self):
        from metrolab.commissions import demo, listeners, selectors, services
        from metrolab.core.context_processors import NavItem, register_modules
        from metrolab.core.demo import register_demo
        from metrolab.customers.panels import CardPanel, register_card_panel

        # The applicant is told of every status node and of the review decision (R6.1c).
        if listeners.commission_status_notify not in services.status_listeners:
            services.status_listeners.append(listeners.commission_status_notify)
        if listeners.commission_review_notify not in services.review_listeners:
            services.review_listeners.append(listeners.commission_review_notify)
        # A customer's card shows their latest commissions (R9.1).
        register_card_panel(
            CardPanel("commissions/_customer_card.html", selectors.customer_card_commissions)
        )
        # The demo's customers, disciplines and commissions, first after the users.
        register_demo(demo.demo_seed_commissions, order=20)

        # The menu shows each entry only to those its view admits (core.context_processors).
        register_modules(
            NavItem("commissions:list", _("Commissions"), "▤"),
            NavItem("commissions:apply", _("Apply online"), "✚"),
            NavItem("commissions:create", _("New commission"), "✚"),
            NavItem("commissions:arrivals", _("Today's arrivals"), "⇲"),
        )
