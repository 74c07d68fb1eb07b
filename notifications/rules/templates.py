"""TTS template rules (reference §1.6): variable syntax, per-kind and per-mode limits."""
import ipaddress
import itertools
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from notifications.models.choices import Mode, Purpose

# Anything that looks like a placeholder, well-formed or not, so a bad name can be reported.
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def extract_variables(content: str) -> list[str]:
    """Variable names in order of first appearance."""
    seen: dict[str, None] = {}
    for name in PLACEHOLDER.findall(content or ""):
        seen.setdefault(name, None)
    return list(seen)


def render_preview(content: str, values: dict[str, str]) -> str:
    """The text the callee will hear, with each ${var} replaced by its value (or left as is when missing)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1)) or m.group(0), content or "")


# ----- Rules of reference §1.6, one function each; every function returns a list of ValidationErrors. -----
MAX_LENGTH = 1000
MAX_PUBLIC_VARIABLES = 2
FORBIDDEN_SYMBOLS = "#/:-%¥【】[]$"
RESERVED_NAMES = frozenset({"email", "mobile", "id", "nick", "site"})
CODE_KEYWORDS = ("验证码", "注册码", "校验码", "动态码")
VARIABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_IPV4_CANDIDATE = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")
_IPV6_CANDIDATE = re.compile(r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}")


def _text_outside_placeholders(content: str) -> str:
    return PLACEHOLDER.sub(" ", content or "")


def _is_filler(text: str) -> bool:
    """True for text made only of punctuation and spaces: it does not separate two variables."""
    return all(ch.isspace() or unicodedata.category(ch)[0] in "PZ" for ch in text)


def check_length(content: str) -> list[ValidationError]:
    length = len(content or "")
    if length < 1:
        return [ValidationError(_("The content is empty."), code="length")]
    if length > MAX_LENGTH:
        return [
            ValidationError(
                _("The content has %(length)d characters; at most %(max)d are allowed, variables included."),
                code="length",
                params={"length": length, "max": MAX_LENGTH},
            )
        ]
    return []


def check_symbols(content: str) -> list[ValidationError]:
    found = sorted({ch for ch in _text_outside_placeholders(content) if ch in FORBIDDEN_SYMBOLS})
    if not found:
        return []
    return [
        ValidationError(
            _("These symbols are not allowed (write them in words or use Chinese punctuation): %(symbols)s"),
            code="symbols",
            params={"symbols": " ".join(found)},
        )
    ]


def check_links(content: str) -> list[ValidationError]:
    if "http" in (content or "").lower():
        return [ValidationError(_("Links are not allowed: remove “http” / “https”."), code="link")]
    return []


def check_ip_addresses(content: str) -> list[ValidationError]:
    text = _text_outside_placeholders(content)
    for candidate in (*_IPV4_CANDIDATE.findall(text), *_IPV6_CANDIDATE.findall(text)):
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            continue
        return [ValidationError(_("IP addresses are not allowed (found %(ip)s)."), code="ip_address", params={"ip": candidate})]
    return []


def check_variable_names(content: str) -> list[ValidationError]:
    bad = [name for name in extract_variables(content) if not VARIABLE_NAME.fullmatch(name)]
    if not bad:
        return []
    return [
        ValidationError(
            _("Invalid variable name: %(names)s. A name starts with a letter and has only letters, digits and underscores."),
            code="variable_name",
            params={"names": ", ".join(bad)},
        )
    ]


def check_reserved_names(content: str) -> list[ValidationError]:
    reserved = [name for name in extract_variables(content) if name.lower() in RESERVED_NAMES]
    if not reserved:
        return []
    return [
        ValidationError(
            _("Reserved variable names cannot be used: %(names)s (reserved: email, mobile, id, nick, site)."),
            code="reserved_name",
            params={"names": ", ".join(reserved)},
        )
    ]


def check_adjacent_variables(content: str) -> list[ValidationError]:
    matches = list(PLACEHOLDER.finditer(content or ""))
    for left, right in itertools.pairwise(matches):
        if _is_filler(content[left.end() : right.start()]):
            return [
                ValidationError(
                    _("Variables %(left)s and %(right)s are next to each other; put words between them."),
                    code="adjacent",
                    params={"left": left.group(0), "right": right.group(0)},
                )
            ]
    return []


def check_not_only_variables(content: str) -> list[ValidationError]:
    if PLACEHOLDER.search(content or "") and _is_filler(_text_outside_placeholders(content)):
        return [ValidationError(_("A template cannot be made of variables only; add the message text."), code="only_variables")]
    return []


def check_each_variable_once(content: str) -> list[ValidationError]:
    names = PLACEHOLDER.findall(content or "")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if not repeated:
        return []
    return [
        ValidationError(
            _("Each variable may appear only once; repeated: %(names)s."),
            code="repeated",
            params={"names": ", ".join(repeated)},
        )
    ]


def check_public_variable_count(content: str, mode: str) -> list[ValidationError]:
    count = len(extract_variables(content))
    if mode == Mode.PUBLIC and count > MAX_PUBLIC_VARIABLES:
        return [
            ValidationError(
                _("Public-pool templates may have at most %(max)d variables; this one has %(count)d."),
                code="public_variables",
                params={"max": MAX_PUBLIC_VARIABLES, "count": count},
            )
        ]
    return []


def check_code_variable_count(content: str, kind: str) -> list[ValidationError]:
    count = len(extract_variables(content))
    if kind == Purpose.VERIFICATION and count != 1:
        return [
            ValidationError(
                _("A verification-code template has exactly one variable (the code); this one has %(count)d."),
                code="code_variables",
                params={"count": count},
            )
        ]
    return []


def check_code_keyword(content: str, kind: str) -> list[ValidationError]:
    if kind == Purpose.VERIFICATION and not any(word in (content or "") for word in CODE_KEYWORDS):
        return [
            ValidationError(
                _("A verification-code template must contain one of 验证码, 注册码, 校验码 or 动态码."),
                code="code_keyword",
            )
        ]
    return []


def template_errors(*, content: str, kind: str, mode: str) -> list[ValidationError]:
    """Every rule broken by this content, one message per rule (empty when the template is acceptable)."""
    errors = check_length(content)
    for rule in (
        check_symbols,
        check_links,
        check_ip_addresses,
        check_variable_names,
        check_reserved_names,
        check_adjacent_variables,
        check_not_only_variables,
        check_each_variable_once,
    ):
        errors += rule(content)
    errors += check_public_variable_count(content, mode)
    errors += check_code_variable_count(content, kind)
    errors += check_code_keyword(content, kind)
    return errors
