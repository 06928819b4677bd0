"""Sign-in throttling state and the counters behind the coalesced record of failed sign-ins.

Operational state, not lab data: the rows expire and are deleted. What matters for the record
goes into the audit log (metrolab.core.signin): every throttle start, every successful sign-in,
the first failed sign-in from an address in each window and a summary of the rest.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SigninThrottle(models.Model):
    """Failed sign-ins counted per client address, per account, and per (account, address)
    pair (R7.2a; GB/T 22239-2019 8.1.4.1 b). Kept in the database so that every server process
    sees the same counts."""

    class Scope(models.TextChoices):
        ADDRESS = "address", _("client address")
        ACCOUNT = "account", _("account")
        PAIR = "pair", _("account from address")

    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices)
    # address: the client address; account: "user:<pk>", or "name:<digest>" for a user name
    # that is no account's; pair: "<account key>@<address>".
    key = models.CharField(_("key"), max_length=200)
    failures = models.PositiveIntegerField(_("failed sign-ins"), default=0)
    last_failure_at = models.DateTimeField(_("last failed sign-in"), null=True, blank=True)
    blocked_until = models.DateTimeField(_("delayed until"), null=True, blank=True)
    expires_at = models.DateTimeField(_("forgotten at"), db_index=True)

    class Meta:
        verbose_name = _("sign-in throttle")
        verbose_name_plural = _("sign-in throttles")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="core_signinthrottle_scope_key")
        ]

    def __str__(self):
        return f"{self.scope} {self.key}"


class SigninFailureWindow(models.Model):
    """Failed sign-ins from one client address within one audit window. The window's first
    failure is an audit event; the later ones are only counted here, and one summary event is
    appended once the window has closed (R7.2d without letting anonymous clients grow the
    permanent log without bound)."""

    address = models.CharField(_("client address"), max_length=45, blank=True)
    opened_at = models.DateTimeField(_("opened at"))
    closes_at = models.DateTimeField(_("closes at"), db_index=True)
    first_event_seq = models.BigIntegerField(_("first event"), null=True, blank=True)
    failures = models.PositiveIntegerField(_("failed sign-ins"), default=1)
    refused = models.PositiveIntegerField(_("refused while delayed"), default=0)
    # {user name or "(unknown user)": count}, bounded (see signin.MAX_NAMES_PER_WINDOW).
    accounts = models.JSONField(_("accounts"), default=dict)
    code_failures = models.PositiveIntegerField(_("wrong second-factor codes"), default=0)

    class Meta:
        verbose_name = _("failed sign-in window")
        verbose_name_plural = _("failed sign-in windows")
        indexes = [models.Index(fields=["address", "closes_at"], name="core_signinfail_addr_idx")]

    def __str__(self):
        return f"{self.address or '?'} {self.opened_at:%Y-%m-%d %H:%M} ({self.failures})"
