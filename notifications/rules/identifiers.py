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


# GB 32100-2015: the 31 characters of the code (no I, O, S, V, Z) and the weights of the first 17 positions.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code, computed from the first 17."""
    total = sum(CREDIT_CODE_ALPHABET.index(ch) * weight for ch, weight in zip(first17, _CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def normalize_credit_code(raw: str) -> str:
    """Return the unified social credit code in upper case or raise ValidationError saying what is wrong."""
    code = (raw or "").strip().replace(" ", "").upper()
    if len(code) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(count)d."), code="length", params={"count": len(code)}
        )
    bad = sorted({ch for ch in code if ch not in CREDIT_CODE_ALPHABET})
    if bad:
        raise ValidationError(
            _("The code contains characters that are never used in credit codes: %(chars)s."),
            code="alphabet",
            params={"chars": " ".join(bad)},
        )
    if not code[2:8].isdigit():
        raise ValidationError(_("Characters 3 to 8 (the region code) must be digits."), code="region")
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValidationError(_("The check character does not match; please check the code for typing errors."), code="checksum")
    return code
