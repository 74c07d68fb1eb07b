"""Admin for call records, call events and the do-not-call list."""
from django.contrib import admin  # noqa: F401
