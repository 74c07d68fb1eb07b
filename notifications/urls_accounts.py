"""URLs under /accounts/: the users page, invitations, password reset, the idle keep-alive."""
from django.urls import path

from notifications.views import accounts as views

app_name = "accounts"

urlpatterns = [
    path("users/", views.user_list, name="user_list"),
    path("users/invite/", views.user_invite, name="user_invite"),
    path("users/<int:pk>/role/", views.user_role, name="user_role"),
    path("users/<int:pk>/deactivate/", views.user_active, {"active": False}, name="user_deactivate"),
    path("users/<int:pk>/activate/", views.user_active, {"active": True}, name="user_activate"),
    path("users/<int:pk>/resend-invitation/", views.user_resend_invitation, name="user_resend_invitation"),
    path("users/<int:pk>/two-factor-reset/", views.user_two_factor_reset, name="user_two_factor_reset"),
    path("invitation/<uidb64>/<token>/", views.InvitationConfirmView.as_view(), name="invitation"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/done/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password-reset/complete/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("keep-alive/", views.keep_alive, name="keep_alive"),
]
