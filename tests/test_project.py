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


def test_open_calls_index_covers_exactly_the_statuses_still_in_flight():
    """The follow-up and the dashboard find calls in flight through this partial index; a new status must join it."""
    from notifications.models import CallRecord

    index = next(index for index in CallRecord._meta.indexes if index.name == "callrecord_open_idx")
    _lookup, statuses = index.condition.children[0]
    assert set(statuses) == {status for status in CallRecord.Status if status not in CallRecord.FINAL_STATUSES}
