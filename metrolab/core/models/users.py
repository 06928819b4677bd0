"""Users (people and machine clients) and their API tokens."""

from django.contrib.auth.models import AbstractUser, Group, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrolab.core.models.base import AuditedModel, AuditedQuerySet
from metrolab.core.text import NAME, PHONE


class AuditedUserManager(UserManager.from_queryset(AuditedQuerySet)):
    """Django's user manager over the audited queryset (bulk writes refused)."""


class User(AuditedModel, AbstractUser):
    """A person or machine client of the lab. Roles are groups (R4.4); a user may hold several."""

    audit_exclude = frozenset(
        {
            "created_at",
            "updated_at",
            "last_login",
            "totp_last_step",
        }
    )
    audit_secret = frozenset({"password", "totp_secret"})

    display_name = models.CharField(_("display name"), max_length=NAME, blank=True)
    phone = models.CharField(_("phone"), max_length=PHONE, blank=True)
    totp_secret = models.CharField(_("TOTP secret"), max_length=64, blank=True)
    totp_enabled = models.BooleanField(_("two-factor authentication"), default=False)
    totp_last_step = models.BigIntegerField(_("last accepted TOTP step"), null=True, blank=True)

    objects = AuditedUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.display_name or self.username

    def save(self, *args, **kwargs):
        # A token-scoped copy (metrolab.core.access.token_scoped_user) carries narrowed flags
        # that must never reach the database.
        if getattr(self, "_token_scope", None) is not None:
            fields = set(kwargs.get("update_fields") or ())
            if not fields or fields & {"is_superuser", "is_staff", "is_active"}:
                raise PermissionError("a token-scoped user can only save named, harmless fields")
        super().save(*args, **kwargs)

    @property
    def role_codes(self) -> frozenset[str]:
        """The codes of the roles this user holds (cached per instance)."""
        if not hasattr(self, "_role_codes"):
            self._role_codes = frozenset(self.groups.values_list("name", flat=True))
        return self._role_codes

    def has_role(self, *codes: str) -> bool:
        return self.is_active and bool(self.role_codes & set(codes))


class ApiToken(AuditedModel):
    """A bearer token for a machine client or integration. Only a SHA-256 of the token is kept;
    its roles are a subset of its user's (scoping); it can be revoked and may expire."""

    audit_exclude = frozenset({"created_at", "updated_at", "last_used_at", "last_used_ip"})
    audit_secret = frozenset({"key_hash"})

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=NAME)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    roles = models.ManyToManyField(Group, verbose_name=_("roles"), blank=True, related_name="+")
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_by = models.ForeignKey(
        User,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class AuthVersion(models.Model):
    """One row whose `version` changes whenever what an API token may do could change: a
    user's roles, a token's roles, a role's permissions, a role renamed or deleted
    (metrolab.core.access.bump_auth_version, connected to those signals). Token authentication
    reads it in the same query as the token, and reuses a process's cached roles and
    permissions of the token only while it is unchanged (R7.2a: a change applies on the next
    request, in every server process).

    The new value is random, not the old one plus one: a change rolled back together with its
    value can never hand that value to a later, different change."""

    version = models.BigIntegerField(_("version"), default=0)

    class Meta:
        verbose_name = _("authorisation version")
        verbose_name_plural = _("authorisation versions")

    def __str__(self):
        return str(self.version)
