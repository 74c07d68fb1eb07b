"""The dashboard, the call log and exports."""
from django.urls import path  # noqa: F401

urlpatterns: list = []
