"""Permissions come from groups and from the user directly, read in one query."""
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext


def test_user_has_group_and_own_permissions_from_one_query(operator):
    operator.user_permissions.add(Permission.objects.get(codename="export_callrecord"))
    user = User.objects.get(pk=operator.pk)
    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm("notifications.dial_callrecord")  # from the Operators group
        assert user.has_perm("notifications.export_callrecord")  # given to the user
        assert not user.has_perm("notifications.review_ttstemplate")
    assert len(queries) == 1


def test_inactive_user_has_no_permissions(operator):
    operator.is_active = False
    operator.save()
    assert not User.objects.get(pk=operator.pk).has_perm("notifications.dial_callrecord")


def test_superuser_has_every_permission(superuser):
    assert superuser.has_perm("notifications.review_ttstemplate")
