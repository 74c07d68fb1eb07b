"""Shared fixtures: users for each role."""
import pytest
from django.contrib.auth.models import Group, User

from notifications.roles import MANAGERS, OPERATORS

pytest_plugins = ["tests.fixtures_simulator"]


def _user_in(group_name: str, username: str) -> User:
    user = User.objects.create_user(username=username, password="not-used-in-tests")
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def operator(db) -> User:
    return _user_in(OPERATORS, "operator")


@pytest.fixture
def manager(db) -> User:
    return _user_in(MANAGERS, "manager")


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser(username="root", password="not-used-in-tests", email="root@example.com")
