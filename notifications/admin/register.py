"""Admin for the register: qualifications, numbers, voice files, templates."""
from django.contrib import admin  # noqa: F401
