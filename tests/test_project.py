"""Project-wide behaviour: login everywhere, role groups exist."""
from django.contrib.auth.models import Group

from notifications.roles import MANAGERS, OPERATORS, ROLE_PERMISSIONS


def test_role_groups_have_their_permissions(db):
    for name in (OPERATORS, MANAGERS):
        codenames = set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))
        assert codenames == set(ROLE_PERMISSIONS[name])


def test_home_redirects_anonymous_visitor_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")

