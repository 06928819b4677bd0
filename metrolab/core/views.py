"""Core pages: sign-in (with TOTP), dashboard, organisation profile, audit log, API tokens,
account security and the language switch."""

from __future__ import annotations

import time
from pathlib import Path

import segno
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, login
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from metrolab.core import selectors, services, signin
from metrolab.core.access import allow, authenticated, public
from metrolab.core.auth import totp_uri
from metrolab.core.filters import AuditEventFilter
from metrolab.core.forms import (
    ApiTokenForm,
    AuditFilterForm,
    LoginForm,
    OrganisationForm,
    TotpForm,
)
from metrolab.core.models import ApiToken, User
from metrolab.core.roles import ROLES
from metrolab.core.service import ServiceError

PENDING_USER = "metrolab_pending_user"
PENDING_BACKEND = "metrolab_pending_backend"
PENDING_NEXT = "metrolab_pending_next"
PENDING_SINCE = "metrolab_pending_since"


FAVICON = Path(__file__).parent / "static" / "core" / "favicon.ico"


@public
def favicon(request):
    """`/favicon.ico`, which browsers and bookmarks ask for whatever the page links."""
    response = HttpResponse(FAVICON.read_bytes(), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@public
def set_language(request):
    """Switch between 简体中文 and English (a POST from the language menu)."""
    return django_set_language(request)


@public
class LoginView(auth_views.LoginView):
    """Password step. Users with TOTP on go on to the code step before they are signed in."""

    template_name = "core/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if user.totp_enabled:
            self.request.session[PENDING_USER] = user.pk
            self.request.session[PENDING_BACKEND] = user.backend
            self.request.session[PENDING_NEXT] = self.get_success_url()
            self.request.session[PENDING_SINCE] = time.time()
            return redirect("core:login_totp")
        return super().form_valid(form)


PENDING_SECONDS = 300  # the code step must follow the password step within five minutes


@public
def login_totp(request):
    """Second step of sign-in: the 6-digit code of the user's authenticator app."""
    user_pk = request.session.get(PENDING_USER)
    started = request.session.get(PENDING_SINCE, 0)
    if user_pk is None or time.time() - started > PENDING_SECONDS:
        _end_pending_signin(request)
        return redirect("core:login")
    user = User.objects.filter(pk=user_pk, is_active=True).first()
    if user is None:
        return redirect("core:login")
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.login_second_factor(
            user=user, code=form.cleaned_data["code"], actor=request.user
        ):
            next_url = request.session.pop(PENDING_NEXT, "")
            backend = request.session.pop(PENDING_BACKEND)
            _end_pending_signin(request)
            login(request, user, backend=backend)
            if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
                next_url = reverse("core:dashboard")
            return redirect(next_url)
        if signin.is_delayed(signin.attempt_of(user)):
            # Too many wrong codes (GB/T 22239-2019 8.1.4.1 b): the half-open sign-in ends;
            # the password step answers as for a wrong password until the delay is over.
            _end_pending_signin(request)
            return redirect("core:login")
        form.add_error("code", _("The code is not valid."))
    return render(request, "core/login_totp.html", {"form": form})


def _end_pending_signin(request) -> None:
    for key in (PENDING_USER, PENDING_BACKEND, PENDING_NEXT, PENDING_SINCE):
        request.session.pop(key, None)


@public
class LogoutView(auth_views.LogoutView):
    pass


@authenticated
def dashboard(request):
    user = request.user
    roles = [ROLES[c] for c in sorted(user.role_codes) if c in ROLES]
    return render(
        request,
        "core/dashboard.html",
        {
            "roles": roles,
            "organisation": services.organisation_get(),
        },
    )


@allow(perms=["core.view_organisationprofile"])
def organisation(request):
    profile = services.organisation_get()
    can_edit = request.user.has_perm("core.change_organisationprofile")
    form = None
    if can_edit:
        form = OrganisationForm(request.POST or None, instance=profile)
        if request.method == "POST" and form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "reason"}
            try:
                services.organisation_update(
                    data=data, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except ServiceError as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(request, _("The organisation profile was saved."))
                return redirect("core:organisation")
    elif request.method == "POST":
        raise Http404
    return render(request, "core/organisation.html", {"profile": profile, "form": form})


@allow(perms=["core.view_auditevent"])
def audit_log(request):
    """The audit log, filtered by actor, action, object and time; 50 events a page."""
    form = AuditFilterForm(request.GET or None)
    form.is_valid()  # shows the errors; the rows follow the API's filter
    events = selectors.audit_event_list(AuditEventFilter.from_query(request.GET))
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/audit_log.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "object_types": selectors.audit_object_types(),
            "verification": selectors.audit_verification_latest(),
            "can_verify": request.user.has_perm("core.add_auditverification"),
        },
    )


@require_POST
@allow(perms=["core.add_auditverification"])
def audit_verify(request):
    services.audit_verification_request(actor=request.user, reason="requested from the audit page")
    messages.info(request, _("The verification was queued; this page shows its progress."))
    return redirect("core:audit_log")


@allow(perms=["core.view_auditverification"])
def audit_verification_status(request):
    """The latest verification as a small fragment, polled by the audit page while it runs."""
    return render(
        request,
        "core/_verification.html",
        {
            "verification": selectors.audit_verification_latest(),
        },
    )


@allow(perms=["core.view_apitoken"])
def api_tokens(request):
    """API tokens for machines and integrations: issue (shown once), list, revoke."""
    can_add = request.user.has_perm("core.add_apitoken")
    form = ApiTokenForm(request.POST or None) if can_add else None
    new_token = None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            user = User.objects.filter(username=form.cleaned_data["username"]).first()
            if user is None:
                form.add_error("username", _("No such user."))
            else:
                try:
                    _token, new_token = services.api_token_create(
                        user=user,
                        name=form.cleaned_data["name"],
                        roles=form.cleaned_data["roles"],
                        expires_at=form.cleaned_data["expires_at"],
                        actor=request.user,
                    )
                except ServiceError as exc:
                    form.add_error(exc.field, exc.message)
                else:
                    form = ApiTokenForm()
    page = Paginator(selectors.api_token_list(), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "core/api_tokens.html",
        {
            "form": form,
            "page": page,
            "new_token": new_token,
            "can_revoke": request.user.has_perm("core.change_apitoken"),
        },
    )


@require_POST
@allow(perms=["core.change_apitoken"])
def api_token_revoke(request, pk: int):
    token = ApiToken.objects.filter(pk=pk).first()
    if token is None:
        raise Http404
    try:
        services.api_token_revoke(
            token=token, actor=request.user, reason=request.POST.get("reason", "")
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The token was revoked."))
    return redirect("core:api_tokens")


@authenticated
def account_security(request):
    """Two-factor authentication (TOTP) for the signed-in user: set up, confirm, turn off."""
    user = request.user
    form = TotpForm(request.POST or None)
    action = request.POST.get("action")
    if request.method == "POST":
        try:
            if action == "begin":
                services.totp_begin(user=user, actor=user)
                return redirect("core:account_security")
            if action in {"enable", "disable"} and form.is_valid():
                service = services.totp_enable if action == "enable" else services.totp_disable
                service(user=user, code=form.cleaned_data["code"], actor=user)
                done = (
                    _("Two-factor authentication is on.")
                    if action == "enable"
                    else _("Two-factor authentication is off.")
                )
                messages.success(request, done)
                return redirect("core:account_security")
        except ServiceError as exc:
            form.add_error("code" if exc.field == "code" else None, exc.message)
    qr_svg = None
    if user.totp_secret and not user.totp_enabled:
        qr_svg = segno.make(totp_uri(user, user.totp_secret), error="m").svg_inline(scale=4)
    return render(
        request,
        "core/account_security.html",
        {
            "form": form,
            "qr_svg": qr_svg,
            "pending": bool(user.totp_secret and not user.totp_enabled),
            "session_backend": request.session.get(BACKEND_SESSION_KEY),
        },
    )
