"""Response headers every page gets: a Content-Security-Policy, and no caching of what a signed-in user sees."""
from django.conf import settings
from django.utils.cache import add_never_cache_headers

CSP_HEADER = "Content-Security-Policy"


class SecurityHeadersMiddleware:
    """Sits after AuthenticationMiddleware (it reads `request.user`).

    - Content-Security-Policy (setting CONTENT_SECURITY_POLICY) on every response that has none yet: scripts and
      styles only from our own static files, so an injected `<script>` or `onclick=` does not run.
    - Cache-Control: no-store (with Django's other never-cache headers) on every response to a signed-in user, so
      a shared computer's browser cache or a proxy keeps no copy of call logs, numbers or licence scans.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = self._policy_for(request.path_info)
        if policy and CSP_HEADER not in response:
            response[CSP_HEADER] = policy
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response

    @staticmethod
    def _policy_for(path: str) -> str:
        # django-rq's queue dashboard (staff only, a third-party app) ships inline scripts and style attributes;
        # it gets the looser policy rather than losing its buttons. Our own pages have none.
        for prefix, policy in getattr(settings, "CONTENT_SECURITY_POLICY_EXCEPTIONS", {}).items():
            if path.startswith(prefix):
                return policy
        return getattr(settings, "CONTENT_SECURITY_POLICY", "")
