"""Phone number masking and the audit of who saw a full number."""
import json
import re

from django.conf import settings

from notifications.models import AuditEntry, CallEvent, CallRecord

# Keys whose values are phone numbers in the provider's payloads (receipts, detail queries, API answers), compared
# lower-cased without separators: callee, callerShowNumber, caller_show_num, CalledNumber, show_number, …
PHONE_KEYS = frozenset({
    "callee", "caller", "callednumber", "calledshownumber", "calleeshownumber", "calleeshownum", "callershownumber",
    "callershownum", "shownumber", "shownum", "number", "phone", "phonenumber", "mobile",
})
# A mainland mobile (1[3-9] + 9 digits) or landline (0 + area code + 7–8 digits, optionally "0571-…"), with or without
# +86, standing alone: not part of a longer run of letters or digits such as a CallId, RequestId or OutId.
PHONE_PATTERN = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[ -]?)?(1[3-9]\d{9}|0\d{2,3}[ -]?\d{7,8})(?![0-9A-Za-z])")


def number_mask(number: str) -> str:
    """159****0000: keep the first three and last four digits of a mobile, hide the middle of anything else."""
    if not number:
        return number
    if len(number) > 7:
        return number[:3] + "*" * (len(number) - 7) + number[-4:]
    return number[:1] + "*" * max(len(number) - 2, 1) + number[-1:]


def text_mask(text: str) -> str:
    """The text with every phone number in it masked ("请回电 13900001231" → "请回电 139****1231")."""
    if not text:
        return text
    return PHONE_PATTERN.sub(lambda found: number_mask(re.sub(r"\D", "", found.group(1))), text)


def _is_identifier(key: str) -> bool:
    # call_id, RequestId, biz_id, out_id…: digit runs inside these are ids, never numbers to hide.
    return key.endswith("id")


def payload_mask(value, key: str = ""):
    """A copy of a provider payload (dicts, lists, JSON text) with every phone number masked.

    Values under a phone key are masked whole whatever they look like; every other text has the phone numbers in it
    masked, and text that is itself JSON (the detail query's `Data`) is parsed and masked the same way.
    """
    key = re.sub(r"[^a-z]", "", key.lower())
    if isinstance(value, dict):
        return {name: payload_mask(item, str(name)) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [payload_mask(item, key) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and not _is_identifier(key):
        text = str(value)
        return number_mask(text) if key in PHONE_KEYS or PHONE_PATTERN.fullmatch(text) else value
    if isinstance(value, str):
        if key in PHONE_KEYS:
            return number_mask(value.strip())
        stripped = value.strip()
        if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
            try:
                inner = json.loads(stripped)
            except ValueError:
                pass
            else:
                return json.dumps(payload_mask(inner), ensure_ascii=False)
        return value if _is_identifier(key) else text_mask(value)
    return value


def user_sees_full_numbers(user) -> bool:
    return not settings.PHONE_MASKING or user.has_perm("notifications.view_full_number")


def number_access_record(*, user, call: CallRecord) -> AuditEntry:
    """Write the audit log's entry for a full-number view of one call."""
    from notifications.services.audit import audit_record  # audit masks with the functions above

    return audit_record(user=user, action=AuditEntry.Action.FULL_NUMBER_VIEW, target=call)


def shown_masked(obj):
    """Mask, in memory only, every number a call record or call event holds, for a page that shows it to a role that
    sees numbers masked (the admin's read-only pages). Never save the object afterwards. Fields not loaded (a list's
    `.only()`) stay unloaded: reading them would cost a query per row."""
    maskers = {}
    if isinstance(obj, CallRecord):
        maskers = {"called_number": number_mask, "params": payload_mask, "status_msg": text_mask, "api_message": text_mask}
    elif isinstance(obj, CallEvent):
        maskers = {"payload": payload_mask, "message": text_mask}
        if obj.call_id and CallEvent._meta.get_field("call").is_cached(obj):  # the call it names: its str() holds the callee
            shown_masked(obj.call)
    deferred = obj.get_deferred_fields() if maskers else set()
    for name, mask in maskers.items():
        if name not in deferred:
            setattr(obj, name, mask(getattr(obj, name)))
    return obj
