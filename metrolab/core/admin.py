"""The back office (Django admin) for master data. Writes go through the audited models, with
the signed-in admin as the actor (the request context carries the user)."""

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from metrolab.core import audit_names
from metrolab.core.access import public
from metrolab.core.models import ApiToken, AuditEvent, AuditVerification, OrganisationProfile, User
from metrolab.core.services import signin_release
from metrolab.core.templatetags.audit import ACTOR_TYPES


def admin_login(request, extra_context=None):
    """The back office signs in through MetroLab's own sign-in page, so that lock-out and the
    second factor apply there too; a signed-in user without staff access is refused."""
    if request.user.is_authenticated:
        raise PermissionDenied
    next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
    return redirect_to_login(next_url, login_url=reverse("core:login"))


admin.site.login = public(admin_login)


class ViewOnlyAdmin(admin.ModelAdmin):
    """Shown in the back office, changed only through services (or never)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.site_header = _("MetroLab back office")
admin.site.site_title = _("MetroLab")
admin.site.index_title = _("Master data")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "display_name",
        "email",
        "is_active",
        "is_staff",
        "totp_enabled",
    ]
    list_filter = ["is_active", "is_staff", "groups", "totp_enabled"]
    search_fields = ["username", "display_name", "email", "phone"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("MetroLab"), {"fields": ["display_name", "phone", "totp_enabled"]}),
    ]
    readonly_fields = ["totp_enabled", "last_login", "date_joined"]
    actions = ["release_signin_delays"]

    @admin.action(description=_("Lift sign-in delays"), permissions=["change"])
    def release_signin_delays(self, request, queryset):
        """For an owner kept out by their own mistyped passwords (docs/operations.md,
        "Sign-in throttling"); each release is audited."""
        for user in queryset:
            signin_release(user=user, actor=request.user, reason="lifted in the back office")
        self.message_user(request, _("Sign-in delays lifted: %(n)d.") % {"n": queryset.count()})

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only a superuser may grant superuser status or permissions outside the roles.
            fields += ["is_superuser", "user_permissions"]
        return fields


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(ViewOnlyAdmin):
    """Roles are defined in code (metrolab.core.roles) and synchronised by migrate; the back
    office shows them and their permissions but does not edit them."""

    list_display = ["name"]
    filter_horizontal = ["permissions"]


@admin.register(OrganisationProfile)
class OrganisationProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "authorisation_no", "accreditation_no", "cma_no"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not OrganisationProfile.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued on the API tokens page (the raw token is shown once, there)."""

    list_display = [
        "name",
        "user",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = [
        "user",
        "name",
        "prefix",
        "key_hash",
        "roles",
        "created_at",
        "last_used_at",
        "last_used_ip",
        "expires_at",
        "revoked_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _CodeFilter(admin.SimpleListFilter):
    """A filter over a code column, offering the codes by their translated names."""

    names: dict = {}

    def lookups(self, request, model_admin):
        return list(self.names.items())

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(**{self.parameter_name: value}) if value else queryset


class ActorTypeFilter(_CodeFilter):
    title = _("actor type")
    parameter_name = "actor_type"
    names = ACTOR_TYPES


class OperationFilter(_CodeFilter):
    title = _("operation")
    parameter_name = "operation"
    names = {**audit_names.OPERATIONS, "call": _("service call"), "event": _("event")}


@admin.register(AuditEvent)
class AuditEventAdmin(ViewOnlyAdmin):
    list_display = [
        "seq",
        "created_at",
        "actor",
        "action_name",
        "action",
        "object_type_name",
        "object_id",
    ]
    list_filter = [ActorTypeFilter, OperationFilter]

    @admin.display(description=_("actor"))
    def actor(self, event):
        if event.actor_label and event.actor_label != event.actor_type:
            return event.actor_label
        return str(ACTOR_TYPES.get(event.actor_type, event.actor_type))

    @admin.display(description=_("Action"))
    def action_name(self, event):
        return audit_names.action_name(event.action)

    @admin.display(description=_("object type"))
    def object_type_name(self, event):
        return audit_names.object_type_name(event.object_type)

    search_fields = ["actor_label", "action", "object_type", "object_id", "request_id"]


@admin.register(AuditVerification)
class AuditVerificationAdmin(ViewOnlyAdmin):
    list_display = [
        "created_at",
        "status",
        "event_count",
        "head_seq",
        "first_bad_seq",
        "requested_by",
    ]
    list_filter = ["status"]
