from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    """Electronic certificates (R6.3, R9.1): issued automatically from approved original
    records (DCC inside a signed PDF/A-3b), revoked and replaced with reasons, verified by
    anyone, downloaded by customers."""

    name = "metrolab.certificates"
    label = "certificates"
    verbose_name = _("Certificates")

    def ready(self):
        from metrolab.certificates import demo, selectors, services
        from metrolab.certificates.panels import commission_certificates
        from metrolab.commissions.panels import detail_extenders
        from metrolab.commissions.status import certificate_checks
        from metrolab.core.context_processors import NavItem, register_modules
        from metrolab.core.demo import register_demo
        from metrolab.records.services import record_approved_listeners
        from metrolab.risk.trace import trace_extenders

        # An approved record queues its certificate (issued by the worker).
        if services.on_record_approved not in record_approved_listeners:
            record_approved_listeners.append(services.on_record_approved)
        # Commissions reach 出具报告 when every task's certificate is issued (R6.1b).
        if selectors.commission_certified not in certificate_checks:
            certificate_checks.append(selectors.commission_certified)
        # An impact review lists the certificates issued with a faulty standard (R4.5).
        if selectors.certificates_using not in trace_extenders:
            trace_extenders.append(selectors.certificates_using)
        # The demo's certificates, issued after its records (60).
        register_demo(demo.demo_seed_certificates, order=70)
        # A commission's page lists its certificates with their downloads (R6.3, R4.3).
        if commission_certificates not in detail_extenders:
            detail_extenders.append(commission_certificates)
        # The certificates in the menu, with the records (group "items & tasks").
        register_modules(NavItem("certificates:list", _("Certificates"), "✉", group="work"))
