"""Signing in through the real login form (the way a person does, past every authentication backend)."""
from django.test import Client


def signs_in(username: str, password: str) -> bool:
    response = Client().post("/accounts/login/", {"username": username, "password": password})
    return response.status_code == 302 and not response["Location"].startswith("/accounts/login/")
