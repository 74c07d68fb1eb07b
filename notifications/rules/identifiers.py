"""Phone numbers and company identifiers."""
import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_ACCEPTED_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE: "landline",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "mobile",
}


def normalize_mainland_number(raw: str) -> tuple[str, str]:
    """Return (digits as the provider wants them, "mobile" | "landline") or raise ValidationError.

    The provider takes mobiles as 11 digits and landlines with their area code and no separator
    (0571xxxxxxxx); extensions are not supported.
    """
    text = (raw or "").strip()
    if not text:
        raise ValidationError(_("Enter a phone number."), code="required")
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise ValidationError(_("“%(value)s” is not a phone number."), code="invalid", params={"value": text}) from None
    if parsed.extension:
        raise ValidationError(_("Extensions are not supported; enter the number without one."), code="extension")
    if parsed.country_code != 86:
        raise ValidationError(_("Only mainland China numbers can be called."), code="not_mainland")
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(_("“%(value)s” is not a valid mainland mobile or landline number."), code="invalid", params={"value": text})
    kind = _ACCEPTED_TYPES.get(phonenumbers.number_type(parsed))
    if kind is None:
        raise ValidationError(_("Only mobile and landline numbers can be called."), code="unsupported_type")
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit()), kind
