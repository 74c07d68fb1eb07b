"""Recording a call (DESIGN §3 steps 1–2): check everything the provider would refuse, store the call `queued`,
and wake the dispatcher once the transaction commits.

The test-dial forms and `manage.py dial` go through `call_record_create`.
"""
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications import work
from notifications.models import BlockedNumber, CallerNumber, CallRecord, Purpose, Qualification, TtsTemplate, VoiceFile
from notifications.rules import dialing as rules
from notifications.rules.identifiers import normalize_mainland_number


def new_out_id() -> str:
    """A fresh OutId: 13 base-36 characters (well under the provider's 15 bytes), random so it is known before the row is saved."""
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    value = secrets.randbits(64)
    chars = []
    for _position in range(13):
        value, digit = divmod(value, 36)
        chars.append(alphabet[digit])
    return "".join(reversed(chars))


def _add(errors: dict, field: str, found) -> None:
    if found:
        errors.setdefault(field, []).extend(found if isinstance(found, list) else [found])


def _previous_calls(*, qualification_id: int, purpose: str, called_number: str, since) -> list:
    """When our own records say this callee was called under the same qualification and purpose (the provider's flow-control key)."""
    same_key = Q(tts_template__qualification_id=qualification_id, tts_template__kind=purpose)
    if purpose == Purpose.NOTIFICATION:
        same_key |= Q(voice_file__qualification_id=qualification_id)  # recordings are always notifications
    return list(
        CallRecord.objects.filter(same_key, called_number=called_number, created_at__gt=since).values_list("created_at", flat=True)
    )


@transaction.atomic
def call_record_create(
    *,
    tts_template: TtsTemplate | None = None,
    voice_file: VoiceFile | None = None,
    called_number: str,
    caller_number: CallerNumber | None = None,
    params: dict[str, str] | None = None,
    play_times: int = 3,
    volume: int = 100,
    speed: int | None = None,
    requested_by=None,
) -> CallRecord:
    """Check everything the provider would refuse, record the call `queued` and send it once this transaction commits.

    Raises ValidationError with errors keyed by field: `resource`, `called_number`, `caller_number`, `params`,
    `param_<variable>`, `play_times`, `volume`, `speed`.
    """
    if (tts_template is None) == (voice_file is None):
        raise ValueError("Pass exactly one of tts_template or voice_file.")
    resource = tts_template or voice_file
    params = {name: str(value) for name, value in (params or {}).items()} if tts_template else {}
    purpose = tts_template.kind if tts_template else Purpose.NOTIFICATION
    errors: dict[str, list] = {}

    # Lock the qualification: two dials of one callee at once must not both slip under the flow-control limits.
    qualification = Qualification.objects.select_for_update().get(pk=resource.qualification_id)
    _add(errors, "resource", rules.check_resource_approved(resource.status))
    _add(errors, "resource", rules.check_qualification_approved(qualification.status))
    if caller_number is not None:
        caller_number = CallerNumber.objects.select_related("qualification").get(pk=caller_number.pk)
    _add(errors, "caller_number", rules.check_caller_number(
        mode=resource.mode,
        has_caller_number=caller_number is not None,
        number_active=caller_number is not None and caller_number.status == CallerNumber.Status.ACTIVE,
        same_qualification=caller_number is not None and caller_number.qualification_id == resource.qualification_id,
        qualification_approved=caller_number is not None and caller_number.qualification.is_approved,
    ))
    _add(errors, "play_times", rules.check_play_times(play_times))
    _add(errors, "volume", rules.check_volume(volume))
    _add(errors, "speed", rules.check_speed(speed))
    if tts_template:
        for name, found in rules.param_errors(variables=list(tts_template.variables), values=params, kind=purpose).items():
            _add(errors, f"param_{name}" if name else "params", found)

    number = ""
    try:
        number, _kind = normalize_mainland_number(called_number)
    except ValidationError as exc:
        _add(errors, "called_number", exc.error_list)
    now = timezone.now()
    if number:
        if BlockedNumber.objects.filter(number=number).exists():
            _add(errors, "called_number", ValidationError(
                _("This number is on the do-not-call list."), code="blocked"))
        previous = _previous_calls(qualification_id=resource.qualification_id, purpose=purpose, called_number=number,
                                   since=now - rules.FLOW_CONTROL_WINDOWS[-1][0])
        _add(errors, "called_number", rules.flow_control_error(previous_calls=previous, now=now))
    if requested_by is not None:
        recent = CallRecord.objects.filter(requested_by=requested_by, created_at__gt=now - timedelta(minutes=1)).count()
        _add(errors, "__all__", rules.rate_limit_error(calls_last_minute=recent, limit=settings.DIAL_RATE_LIMIT_PER_MINUTE))
    if errors:
        raise ValidationError(errors)

    record = CallRecord(
        api=CallRecord.Api.TTS if tts_template else CallRecord.Api.VOICE,
        mode=resource.mode,
        tts_template=tts_template,
        voice_file=voice_file,
        called_number=number,
        caller_number=caller_number,
        params=params,
        play_times=play_times,
        volume=volume,
        speed=speed,
        out_id=new_out_id(),
        requested_by=requested_by,
        created_at=now,
    )
    record.full_clean()
    record.save()
    work.dispatch_wake()
    return record


_new_out_id = new_out_id  # the name other modules used before the split
