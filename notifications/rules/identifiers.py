"""Phone numbers and company identifiers."""
import re
from functools import lru_cache

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
    if _PLAIN_MOBILE.fullmatch(text) and _block_kind(text[:7]) == "mobile":
        return text, "mobile"  # most of a campaign's list: 11 plain digits, as dialled
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


_PLAIN_MOBILE = re.compile(r"1[0-9]{10}", re.ASCII)


@lru_cache(maxsize=1 << 16)
def _block_kind(prefix: str) -> str | None:
    """The kind phonenumbers gives the 11-digit numbers of one 7-digit block (号段), or None when they differ.

    In the mainland metadata every pattern an 11-digit number starting with 1 can match fixes at most its first seven
    digits and lets any digits follow, so a block has one type: asked once per block of 10,000 numbers, a list of
    100,000 mobiles costs a few hundred look-ups instead of 100,000 parses. Both ends of the block are asked, and a
    block whose ends disagree is not taken (its numbers go through parse(), as any other text does).
    """
    kinds = {
        _ACCEPTED_TYPES.get(phonenumbers.number_type(phonenumbers.PhoneNumber(country_code=86, national_number=int(prefix + tail))))
        for tail in ("0000", "9999")
    }
    return kinds.pop() if len(kinds) == 1 else None


# How Excel writes a long number it shows in scientific notation: 1.38E+10, 1.38001E+10, 1,38E+10 (a decimal comma).
_SCIENTIFIC = re.compile(r"\+?([0-9])(?:[.,]([0-9]+))?[eE]\+?([0-9]{1,2})", re.ASCII)
# A whole number stored as a float: 13800138000.0
_WHOLE_FLOAT = re.compile(r"([0-9]+)\.0+", re.ASCII)


def number_from_spreadsheet_cell(raw: str) -> tuple[str, str]:
    """`normalize_mainland_number` for a cell of a spreadsheet, after undoing what Excel does to phone numbers.

    A number in scientific notation is taken only when its mantissa holds every digit (1.3800138000E+10);
    1.38E+10 was rounded by Excel and the digits it dropped are gone, so it is refused (code `shortened`). A
    whole float (13800138000.0) loses its decimals. Spaces, dashes and +86 are parsed as typed. A landline whose
    leading 0 Excel dropped (1012345678 for 010 1234 5678) gets it back from the national format, which always
    writes the trunk prefix of a mainland landline.
    """
    text = (raw or "").strip()
    scientific = _SCIENTIFIC.fullmatch(text)
    if scientific:
        digits, places = scientific.group(1) + (scientific.group(2) or ""), int(scientific.group(3)) + 1
        if len(digits) > places:  # more digits than the whole number has: the rest must be a fraction of zeros
            if digits[places:].strip("0"):
                raise ValidationError(_("“%(value)s” is not a phone number."), code="invalid", params={"value": text})
            digits = digits[:places]
        if len(digits) < places:
            raise ValidationError(
                _("The number was shortened by Excel to %(value)s; format the column as text and save the file again."),
                code="shortened", params={"value": text},
            )
        text = digits
    else:
        whole = _WHOLE_FLOAT.fullmatch(text)
        if whole:
            text = whole.group(1)
    return normalize_mainland_number(text)


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
