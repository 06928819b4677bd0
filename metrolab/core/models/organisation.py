"""The laboratory's own identity, printed on certificates."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from metrolab.core.models.base import AuditedModel
from metrolab.core.text import NAME, PHONE, REFERENCE, SHORT_TEXT


class OrganisationProfile(AuditedModel):
    """The lab (organisation) profile: name, contacts, accreditation / authorisation numbers and
    the texts of its seals (R6.3b: "XXXX单位…电子证书专用章"). A single row, edited by admins."""

    name = models.CharField(_("laboratory name"), max_length=NAME)
    name_en = models.CharField(_("name in English"), max_length=NAME, blank=True)
    address = models.CharField(_("address"), max_length=SHORT_TEXT, blank=True)
    postcode = models.CharField(_("postcode"), max_length=12, blank=True)
    phone = models.CharField(_("phone"), max_length=PHONE, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    authorisation_no = models.CharField(
        _("authorisation certificate no. (法定计量检定机构授权证书)"),
        max_length=REFERENCE,
        blank=True,
    )
    accreditation_no = models.CharField(
        _("CNAS accreditation no."), max_length=REFERENCE, blank=True
    )
    cma_no = models.CharField(_("CMA certificate no. (资质认定)"), max_length=REFERENCE, blank=True)
    seal_verification = models.CharField(_("seal text: verification"), max_length=NAME, blank=True)
    seal_calibration = models.CharField(_("seal text: calibration"), max_length=NAME, blank=True)
    seal_testing = models.CharField(_("seal text: testing"), max_length=NAME, blank=True)
    seal_inspection = models.CharField(_("seal text: inspection"), max_length=NAME, blank=True)

    class Meta:
        verbose_name = _("organisation profile")
        verbose_name_plural = _("organisation profile")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="organisation_profile_singleton")
        ]

    def __str__(self):
        return self.name
