"""The call detail page, its live status and the receipt webhook."""
from django.urls import path  # noqa: F401

urlpatterns: list = []
