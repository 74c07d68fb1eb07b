"""Qualifications, caller numbers, voice files and TTS templates."""
from django.urls import path  # noqa: F401

urlpatterns: list = []
