"""Start the test provider: `python -m tests.oidc_provider.serve PORT REDIRECT_URI CLIENT_ID CLIENT_SECRET`.

Migrates its own SQLite file, creates the users (operator1, manager1, nogroup1; password "provider-pass") and the
console's client, then serves on 127.0.0.1:PORT until killed."""
import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main(port: int, redirect_uri: str, client_id: str, client_secret: str) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import Group, User
    from oauth2_provider.models import Application

    for username, group in (("operator1", "voice-operators"), ("manager1", "voice-managers"), ("nogroup1", None)):
        user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.test"})
        user.set_password("provider-pass")
        user.save()
        if group:
            user.groups.add(Group.objects.get_or_create(name=group)[0])
    Application.objects.update_or_create(client_id=client_id, defaults={
        "name": "VoiceAdmin", "client_secret": client_secret, "client_type": "confidential",
        "authorization_grant_type": "authorization-code", "redirect_uris": redirect_uri, "skip_authorization": True,
        "algorithm": "RS256"})
    from django.core.wsgi import get_wsgi_application

    server = make_server("127.0.0.1", port, get_wsgi_application(), server_class=_Server, handler_class=_QuietHandler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4])
