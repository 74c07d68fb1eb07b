"""What the campaign tests share: messages read in English, uploads kept in a folder of the test's own."""
import pytest


@pytest.fixture
def english():
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
