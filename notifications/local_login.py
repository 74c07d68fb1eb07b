"""LOCAL_LOGIN_ENABLED off: the password sign-in is refused for everyone but superusers, who keep a way in when the
identity provider is down. Placed right after axes' backend: PermissionDenied stops the backends after it.

Only a correct password of a non-superuser is refused with its own message (the login page says to use single
sign-on); a wrong one gets the usual "incorrect" answer, so the message tells nobody which accounts are superusers."""
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

REFUSED_ATTR = "va_local_login_refused"  # set on the request for the login page's message


class LocalLoginGateBackend:
    def authenticate(self, request, username=None, password=None, **kwargs):
        if password is None or getattr(settings, "LOCAL_LOGIN_ENABLED", True):
            return None
        User = get_user_model()
        user = User._default_manager.filter(**{User.USERNAME_FIELD: username or ""}).first()
        if user is None or user.is_superuser or not user.check_password(password):
            return None  # superusers go on; a wrong password fails in the model backend, as usual
        if request is not None:
            setattr(request, REFUSED_ATTR, True)
        raise PermissionDenied("local sign-in is off")
