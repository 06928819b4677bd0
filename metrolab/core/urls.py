from django.urls import path

from metrolab.core import views

app_name = "core"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.login_totp, name="login_totp"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("account/security/", views.account_security, name="account_security"),
    path("organisation/", views.organisation, name="organisation"),
    path("audit/", views.audit_log, name="audit_log"),
    path("audit/verify/", views.audit_verify, name="audit_verify"),
    path("audit/verification/", views.audit_verification_status, name="audit_verification"),
    path("tokens/", views.api_tokens, name="api_tokens"),
    path("tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
