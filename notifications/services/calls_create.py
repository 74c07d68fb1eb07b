"""Recording a call (DESIGN §3 steps 1–2): check everything the provider would refuse, store the call `queued`,
and wake the dispatcher once the transaction commits.

The test-dial forms and `manage.py dial` go through `call_record_create`.
"""
import secrets
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications import work
from notifications.aliyun import spec
from notifications.models import BlockedNumber, CallerNumber, CallRecord, Purpose, Qualification, TtsTemplate, VoiceFile
from notifications.rules import dialing as rules
from notifications.rules.identifiers import normalize_mainland_number
from notifications.services.bulk import rows_insert


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


def previous_calls_by_number(*, qualification_id: int, purpose: str, numbers, since) -> dict[str, list]:
    """When our own records say each callee was called under the same qualification and purpose (the provider's
    flow-control key), for many callees in one query: {number: [created_at, ...]} (numbers never called are absent)."""
    same_key = Q(tts_template__qualification_id=qualification_id, tts_template__kind=purpose)
    if purpose == Purpose.NOTIFICATION:
        same_key |= Q(voice_file__qualification_id=qualification_id)  # recordings are always notifications
    found: dict[str, list] = {}
    for number, created_at in CallRecord.objects.filter(
        same_key, called_number__in=list(numbers), created_at__gt=since,
    ).values_list("called_number", "created_at"):
        found.setdefault(number, []).append(created_at)
    return found


def _previous_calls(*, qualification_id: int, purpose: str, called_number: str, since) -> list:
    """The flow-control history of one callee (see previous_calls_by_number)."""
    return previous_calls_by_number(qualification_id=qualification_id, purpose=purpose, numbers=[called_number],
                                    since=since).get(called_number, [])


def _resource_errors(errors: dict, *, resource, qualification, caller_number, play_times, volume, speed, today) -> None:
    """The rules about what is dialled and how, the same for every callee (a test call's, and a batch's once).

    `today` is the company's date (rules.company_today) the call is checked for: a caller number past its expiry
    date is refused here, for test calls, `manage.py dial`, the campaign check and the campaign sender alike.
    """
    _add(errors, "resource", rules.check_resource_approved(resource.status))
    _add(errors, "resource", rules.check_qualification_approved(qualification.status))
    _add(errors, "caller_number", rules.check_caller_number(
        mode=resource.mode,
        has_caller_number=caller_number is not None,
        number_active=caller_number is not None and caller_number.status == CallerNumber.Status.ACTIVE,
        same_qualification=caller_number is not None and caller_number.qualification_id == resource.qualification_id,
        qualification_approved=caller_number is not None and caller_number.qualification.is_approved,
        number=caller_number.number if caller_number is not None else "",
        expires_on=caller_number.expires_on if caller_number is not None else None,
        today=today,
    ))
    _add(errors, "play_times", rules.check_play_times(play_times))
    _add(errors, "volume", rules.check_volume(volume))
    _add(errors, "speed", rules.check_speed(speed))


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
    if caller_number is not None:
        caller_number = CallerNumber.objects.select_related("qualification").get(pk=caller_number.pk)
    now = timezone.now()
    _resource_errors(errors, resource=resource, qualification=qualification, caller_number=caller_number,
                     play_times=play_times, volume=volume, speed=speed, today=rules.company_today(now))
    if tts_template:
        for name, found in rules.param_errors(variables=list(tts_template.variables), values=params, kind=purpose).items():
            _add(errors, f"param_{name}" if name else "params", found)

    number = ""
    try:
        number, _kind = normalize_mainland_number(called_number)
    except ValidationError as exc:
        _add(errors, "called_number", exc.error_list)
    if number:
        if BlockedNumber.objects.in_force(timezone.localdate(now)).filter(number=number).exists():
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


@dataclass
class BatchEntry:
    """One call of a batch: `key` is the caller's own (a campaign row id); `fields` are extra CallRecord fields."""

    key: object
    called_number: str
    params: dict
    caller_number: CallerNumber | None = None
    fields: dict = dataclass_field(default_factory=dict)


@dataclass
class BatchResult:
    records: dict = dataclass_field(default_factory=dict)  # key → id of the CallRecord stored
    refused: dict = dataclass_field(default_factory=dict)  # key → ValidationError (sending again won't help)
    deferred: dict = dataclass_field(default_factory=dict)  # key → datetime (flow control: not before then)


def call_records_create_batch(
    *,
    tts_template: TtsTemplate | None = None,
    voice_file: VoiceFile | None = None,
    entries: list[BatchEntry],
    play_times: int = 1,
    volume: int = 100,
    speed: int | None = None,
    requested_by=None,
    claimed: bool = False,
    now=None,
) -> BatchResult:
    """The rules of `call_record_create` for many callees at once (a campaign's slice), a few queries in all.

    Raises ValidationError keyed by field when the content or a caller number may not be dialled at all (nothing is
    recorded then). Per callee: a number or parameters the provider would refuse, or the do-not-call list, go to
    `refused`; a callee the provider's flow control would refuse now goes to `deferred` with the moment it is free.
    With `claimed` the records are stored already claimed (`sending`, as the dispatcher claims them), so the caller
    sends them itself with the dispatcher's send code and no other dispatcher run can take them. Run inside the
    caller's transaction.
    """
    if (tts_template is None) == (voice_file is None):
        raise ValueError("Pass exactly one of tts_template or voice_file.")
    resource = tts_template or voice_file
    purpose = tts_template.kind if tts_template else Purpose.NOTIFICATION
    now = now or timezone.now()
    result = BatchResult()
    # The same lock as a test call's: a test call and a batch to one callee cannot both slip under the limits.
    qualification = Qualification.objects.select_for_update().get(pk=resource.qualification_id)
    callers = {entry.caller_number.pk: entry.caller_number for entry in entries if entry.caller_number is not None}
    callers = {number.pk: number for number in CallerNumber.objects.select_related("qualification").filter(pk__in=callers)}
    errors: dict[str, list] = {}
    for caller in callers.values() or [None]:
        _resource_errors(errors, resource=resource, qualification=qualification, caller_number=caller,
                         play_times=play_times, volume=volume, speed=speed, today=rules.company_today(now))
    if errors:
        raise ValidationError(errors)

    numbers = {}
    for entry in entries:
        problems: dict[str, list] = {}
        if tts_template:
            params = {name: str(value) for name, value in (entry.params or {}).items()}
            for name, found in rules.param_errors(variables=list(tts_template.variables), values=params, kind=purpose).items():
                _add(problems, f"param_{name}" if name else "params", found)
        try:
            numbers[entry.key] = normalize_mainland_number(entry.called_number)[0]
        except ValidationError as exc:
            _add(problems, "called_number", exc.error_list)
        if problems:
            result.refused[entry.key] = ValidationError(problems)
    wanted = set(numbers.values())
    in_force = BlockedNumber.objects.in_force(timezone.localdate(now))
    blocked = set(in_force.filter(number__in=wanted).values_list("number", flat=True)) if wanted else set()
    history = previous_calls_by_number(qualification_id=resource.qualification_id, purpose=purpose, numbers=wanted,
                                       since=now - rules.FLOW_CONTROL_WINDOWS[-1][0]) if wanted else {}
    rows = []
    api = CallRecord.Api.TTS if tts_template else CallRecord.Api.VOICE
    for entry in entries:
        if entry.key in result.refused:
            continue
        number = numbers[entry.key]
        if number in blocked:
            result.refused[entry.key] = ValidationError(
                {"called_number": [ValidationError(_("This number is on the do-not-call list."), code="blocked")]})
            continue
        previous = history.get(number)
        limit = spec.flow_control_limit(previous, now) if previous else None  # never called: no window is full
        if limit is not None:
            result.deferred[entry.key] = limit.free_at
            continue
        history.setdefault(number, []).append(now)  # the same callee twice in one batch: the second waits
        row = {
            "api": api, "mode": resource.mode, "tts_template_id": tts_template.pk if tts_template else None,
            "voice_file_id": voice_file.pk if voice_file else None, "called_number": number,
            "caller_number_id": entry.caller_number.pk if entry.caller_number is not None else None,
            "params": {name: str(value) for name, value in (entry.params or {}).items()} if tts_template else {},
            "play_times": play_times, "volume": volume, "speed": speed, "out_id": new_out_id(),
            "requested_by_id": requested_by.pk if requested_by is not None else None, "created_at": now,
            "updated_at": now, "status": CallRecord.Status.QUEUED, "attempts": 0, "sent_at": None, **entry.fields,
        }
        if claimed:
            row.update(status=CallRecord.Status.SENDING, attempts=1, sent_at=now)
        rows.append((entry.key, row))
    # One statement for the batch; the ids come back by OutId (unique, indexed) for the caller to link its rows.
    rows_insert(CallRecord, [row for _key, row in rows])
    ids = dict(CallRecord.objects.filter(out_id__in=[row["out_id"] for _key, row in rows]).values_list("out_id", "pk")) \
        if rows else {}
    result.records = {key: ids[row["out_id"]] for key, row in rows}
    if rows and not claimed:
        work.dispatch_wake()
    return result


_new_out_id = new_out_id  # the name other modules used before the split
