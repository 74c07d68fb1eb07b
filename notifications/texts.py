"""Text stored once and read later by people who each read the console in their own language.

A message written when a job runs (a campaign check, a send) is kept in every language the console speaks, as
{language code: text}; a page, an export or a command shows the reader's, so a check run by one person reads in
another's language for them.
"""
from collections.abc import Callable

from django.conf import settings
from django.utils import translation


def in_each_language(render: Callable[[], str]) -> dict[str, str]:
    """{language code: what `render` gives with that language active}, for every language of the console."""
    texts = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts[code] = str(render())
    return texts


def in_language(texts: dict | str | None, language: str | None = None) -> str:
    """The text for `language` (the active one by default), else the console's, else whichever was kept.

    A plain string is text kept before messages were stored in each language: it is shown as it was written.
    """
    if not texts:
        return ""
    if isinstance(texts, str):
        return texts
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    return texts.get(language) or texts.get(settings.LANGUAGE_CODE) or next(iter(texts.values()), "")
