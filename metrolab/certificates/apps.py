from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    """Electronic certificates (R6.3, R9.1): the machine-readable certificate (DCC), the lab's
    signing keys and PAdES signatures; rendering, issue and public verification build on
    these."""

    name = "metrolab.certificates"
    label = "certificates"
    verbose_name = _("Certificates")
