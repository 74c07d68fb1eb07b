"""Creating and editing register entries: each save checks the entry may still change, derives its fields, validates, saves."""
import os

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
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


def copy_name(model, name: str) -> str:
    """A name for a copy that no other item of the model has, within the name field's length (30 characters for
    templates, the provider's limit): "取件通知 (副本)", then "取件通知 (副本 2)", ... shortening the original if needed."""
    limit = model._meta.get_field("name").max_length
    for number in range(1, 1000):
        suffix = _(" (copy)") if number == 1 else _(" (copy %(number)d)") % {"number": number}
        candidate = name[: max(limit - len(suffix), 1)].rstrip() + suffix
        if not model.objects.filter(name=candidate).exists():
            return candidate
    raise ValidationError(_("Too many copies of this name; rename one of them first."), code="copy_name")


def _check_can_copy(model, user) -> None:
    if not user.has_perm(f"notifications.add_{model._meta.model_name}"):
        raise PermissionDenied(_("Your role may not create this kind of item."))


@transaction.atomic
def tts_template_copy(*, template: TtsTemplate, user) -> TtsTemplate:
    """A new draft with the same content and a distinct name: the way to change an approved (immutable) template."""
    _check_can_copy(TtsTemplate, user)
    copy = TtsTemplate(
        name=copy_name(TtsTemplate, template.name),
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


@transaction.atomic
def voice_file_copy(*, voice_file: VoiceFile, user) -> VoiceFile:
    """A new draft with a copy of the recording (its own file, so either can go without the other) and a distinct
    name: the way to change an approved (immutable) voice file."""
    _check_can_copy(VoiceFile, user)
    copy = VoiceFile(
        name=copy_name(VoiceFile, voice_file.name),
        mode=voice_file.mode,
        qualification=voice_file.qualification,
        audio_format=voice_file.audio_format,
        duration_seconds=voice_file.duration_seconds,
        size_bytes=voice_file.size_bytes,
        sha256=voice_file.sha256,
        created_by=user,
    )
    try:
        with voice_file.audio.open("rb") as handle:
            data = handle.read()
    except (FileNotFoundError, ValueError):
        raise ValidationError(_("The recording is missing from storage; upload it again in a new voice file."),
                              code="missing") from None
    copy.audio.save(os.path.basename(voice_file.audio.name), ContentFile(data), save=False)
    copy.full_clean()
    copy.save()
    return copy
