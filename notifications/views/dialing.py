"""Test-dial forms and the do-not-call list."""
from django.urls import path  # noqa: F401

urlpatterns: list = []
