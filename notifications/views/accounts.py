"""The users page (managers), invitations, the password reset flow and the idle-timeout keep-alive."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from notifications.forms.accounts import AuditedPasswordResetForm, InviteForm, RoleForm
from notifications.models import AuditEntry
from notifications.services import accounts
from notifications.services.audit import audit_record


def _manager_only(request) -> None:
    if not accounts.can_manage_users(request.user):
        raise PermissionDenied


@require_GET
def user_list(request):
    _manager_only(request)
    users = User.objects.prefetch_related("groups").order_by("username")
    enrolled = set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    rows = [{"user": user, "role": accounts.role_of(user), "two_factor": user.pk in enrolled} for user in users]
    return render(request, "accounts/user_list.html", {"rows": rows, "role_form": RoleForm()})


@require_http_methods(["GET", "POST"])
def user_invite(request):
    _manager_only(request)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = accounts.invite(actor=request.user, email=data["email"], role=data["role"],
                               first_name=data["first_name"], last_name=data["last_name"])
        if accounts.send_invitation(request, user):
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": user.email})
        else:
            messages.warning(request, _("The account for %(email)s was created, but the invitation email could not "
                                        "be sent. Try again later with “Resend invitation”.") % {"email": user.email})
        return redirect("accounts:user_list")
    return render(request, "accounts/user_invite.html", {"form": form, "invitation_days": settings.INVITATION_DAYS})


@require_POST
def user_resend_invitation(request, pk):
    _manager_only(request)
    user = get_object_or_404(User, pk=pk, is_superuser=False)
    if user.has_usable_password() or not user.email:
        raise PermissionDenied  # only for an invitation not yet taken up
    if accounts.send_invitation(request, user):
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": user.email})
    else:
        messages.warning(request, _("The invitation email could not be sent. Try again later."))
    return redirect("accounts:user_list")


@require_POST
def user_role(request, pk):
    _manager_only(request)
    target = get_object_or_404(User, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        raise PermissionDenied  # e.g. role=superuser posted by hand
    accounts.set_role(actor=request.user, target=target, role=form.cleaned_data["role"])
    messages.success(request, _("Role of %(name)s changed.") % {"name": target.get_username()})
    return redirect("accounts:user_list")


@require_POST
def user_active(request, pk, active: bool):
    _manager_only(request)
    target = get_object_or_404(User, pk=pk)
    if active:
        accounts.activate(actor=request.user, target=target)
        messages.success(request, _("%(name)s can sign in again.") % {"name": target.get_username()})
    else:
        accounts.deactivate(actor=request.user, target=target)
        messages.success(request, _("%(name)s is deactivated and signed out.") % {"name": target.get_username()})
    return redirect("accounts:user_list")


@require_POST
def user_two_factor_reset(request, pk):
    _manager_only(request)
    target = get_object_or_404(User, pk=pk)
    accounts.reset_two_factor(actor=request.user, target=target)
    messages.success(request, _("Two-factor sign-in of %(name)s is reset: they set it up again at their next sign-in.")
                     % {"name": target.get_username()})
    return redirect("accounts:user_list")


class _AuditedSetPasswordMixin:
    success_message = ""

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_record(user=None, action=AuditEntry.Action.PASSWORD_CHANGED, target=form.user)
        if self.success_message:
            messages.success(self.request, self.success_message)
        return response


@method_decorator(login_not_required, name="dispatch")
class InvitationConfirmView(_AuditedSetPasswordMixin, auth_views.PasswordResetConfirmView):
    """The invitation link: choose a password once (the token dies with the unusable password), then sign in."""

    token_generator = accounts.invitation_token_generator
    template_name = "accounts/invitation_set_password.html"
    success_url = reverse_lazy("login")

    @property
    def success_message(self):
        return _("Your password is set. You can sign in now.")


@method_decorator(login_not_required, name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    form_class = AuditedPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")
    subject_template_name = "registration/password_reset_subject.txt"
    email_template_name = "registration/password_reset_email.txt"


@method_decorator(login_not_required, name="dispatch")
class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    pass


@method_decorator(login_not_required, name="dispatch")
class PasswordResetConfirmView(_AuditedSetPasswordMixin, auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("accounts:password_reset_complete")


@method_decorator(login_not_required, name="dispatch")
class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    pass


@require_POST
def keep_alive(request):
    """The idle warning's "Stay signed in": any request of the user's own renews the session (see notifications.idle)."""
    return HttpResponse(status=204)
