"""Top-level URLs: the console, the receipt webhook, auth, the Django admin and the queue dashboard."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from notifications.views import two_factor
from notifications.views.health import healthz
from notifications.views.lockouts import urlpatterns as lockout_urls
from notifications.views.oidc import urlpatterns as oidc_urls

urlpatterns = [
    # The language switch works on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    # For load balancers: no login, no data, 503 when the database (or Redis) does not answer.
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("notifications.urls_accounts")),  # users, invitations, password reset, keep-alive
    # Two-factor sign-in: the second step after the password, and enrolling an authenticator app.
    path("accounts/two-factor/", two_factor.two_factor_verify, name="two_factor_verify"),
    path("accounts/two-factor/setup/", two_factor.two_factor_setup, name="two_factor_setup"),
    *lockout_urls,  # /accounts/lockouts/
    *oidc_urls,  # /oidc/authenticate/, /oidc/callback/, /oidc/failed/
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("", include("notifications.urls")),
]
