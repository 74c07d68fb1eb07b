"""What the commands look up by the codes people type: shared by `dial` and `campaign`."""
from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from notifications.models import ReviewStatus, TtsTemplate, VoiceFile


def approved_resource(*, tts_code: str | None, voice_code: str | None) -> TtsTemplate | VoiceFile:
    """The TTS template or voice file with this provider code, refused unless the provider approved it."""
    if tts_code:
        model, lookup, code = TtsTemplate, "tts_code", tts_code
    else:
        model, lookup, code = VoiceFile, "voice_code", voice_code
    resource = model.objects.filter(**{lookup: code}).first()
    if resource is None:
        raise CommandError(_("No %(kind)s has the code “%(code)s”.") % {"kind": model._meta.verbose_name, "code": code})
    if resource.status != ReviewStatus.APPROVED:
        raise CommandError(_("%(code)s has not been approved by the provider.") % {"code": code})
    return resource
