"""Creating and editing register entries: each save checks the entry may still change, derives its fields, validates, saves."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from notifications.audio import inspect_voice_upload
from notifications.models import CallerNumber, Qualification, ReviewStatus, TtsTemplate, VoiceFile
from notifications.rules.templates import extract_variables, template_errors
from notifications.services.review import WRONG_STATE


def _check_can_save(resource, user) -> None:
    action = "change" if resource.pk else "add"
    if not user.has_perm(f"notifications.{action}_{resource._meta.model_name}"):
        raise PermissionDenied(_("You may not edit this."))
    if resource.pk is None:
        return
    stored = type(resource).objects.select_for_update().values_list("status", flat=True).get(pk=resource.pk)
    editable = stored != CallerNumber.Status.RELEASED if isinstance(resource, CallerNumber) else stored in (
        ReviewStatus.DRAFT,
        ReviewStatus.REJECTED,
    )
    if not editable:
        raise ValidationError(_("This item can no longer be edited."), code=WRONG_STATE)


def _save(resource, user):
    if resource.pk is None:
        resource.created_by = user
    resource.full_clean()
    resource.save()
    return resource


@transaction.atomic
def qualification_save(*, qualification: Qualification, user) -> Qualification:
    """Create or edit a qualification while it is a draft or rejected."""
    _check_can_save(qualification, user)
    return _save(qualification, user)


@transaction.atomic
def caller_number_save(*, number: CallerNumber, user) -> CallerNumber:
    """Create or edit a caller number; a released number is history and stays as it is."""
    _check_can_save(number, user)
    if number.status == CallerNumber.Status.ACTIVE and number.qualification.status != ReviewStatus.APPROVED:
        raise ValidationError({"qualification": _("An active number needs an approved qualification.")})
    return _save(number, user)


@transaction.atomic
def voice_file_save(*, voice_file: VoiceFile, user) -> VoiceFile:
    """Create or edit a voice file; a newly attached recording is parsed and described (format, duration, size, SHA-256)."""
    _check_can_save(voice_file, user)
    upload = voice_file.audio.file if voice_file.audio and not voice_file.audio._committed else None
    if upload is not None:
        try:
            info = inspect_voice_upload(upload)
        except ValidationError as exc:
            raise ValidationError({"audio": exc.error_list}) from None
        voice_file.audio_format = info.audio_format
        voice_file.duration_seconds = info.duration_seconds
        voice_file.size_bytes = info.size_bytes
        voice_file.sha256 = info.sha256
    return _save(voice_file, user)


@transaction.atomic
def tts_template_save(*, template: TtsTemplate, user) -> TtsTemplate:
    """Create or edit a TTS template after checking every content rule; the variables are derived from the content."""
    _check_can_save(template, user)
    errors = template_errors(content=template.content, kind=template.kind, mode=template.mode)
    if errors:
        raise ValidationError({"content": errors})
    template.variables = extract_variables(template.content)
    return _save(template, user)


@transaction.atomic
def tts_template_copy(*, template: TtsTemplate, user) -> TtsTemplate:
    """A new draft with the same content: the way to change an approved (immutable) template."""
    if not user.has_perm("notifications.add_ttstemplate"):
        raise PermissionDenied(_("You may not create templates."))
    copy = TtsTemplate(
        name=template.name,
        content=template.content,
        kind=template.kind,
        mode=template.mode,
        qualification=template.qualification,
        variables=extract_variables(template.content),
        copied_from=template,
        created_by=user,
    )
    copy.full_clean()
    copy.save()
    return copy
