"""Keeps the simulator's provider account in step with the register (a no-op with the real provider).

With Alibaba Cloud, templates, voice files and numbers are created and reviewed in Alibaba's console
and a manager records the decision here. With the simulator (SIMULATOR_CONTROL_URL set), the console
tells the simulator what it submitted and approved over HTTP, and the simulator can review by itself.
"""
from django.conf import settings


def is_enabled() -> bool:
    return bool(settings.SIMULATOR_CONTROL_URL)


def request_review(resource) -> None:
    """Ask the simulator to review a submitted TtsTemplate or VoiceFile; it reports back on its own."""


def publish_approved(resource) -> None:
    """Tell the simulator that an approved TtsTemplate / VoiceFile / active CallerNumber exists."""


def publish_account() -> None:
    """Send the whole approved register to the simulator (at start-up of the local console)."""
