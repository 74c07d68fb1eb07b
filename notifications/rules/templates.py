"""TTS template rules (reference §1.6) with the console's messages.

The rules themselves live in `notifications.aliyun.spec`, which the simulator uses too: this module only words
each problem for the person writing the template, so the console refuses whatever the provider would.
"""
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from notifications.aliyun import spec

PLACEHOLDER = spec.PLACEHOLDER
MAX_LENGTH = spec.TEMPLATE_MAX_LENGTH
MAX_PUBLIC_VARIABLES = spec.MAX_PUBLIC_VARIABLES
FORBIDDEN_SYMBOLS = spec.FORBIDDEN_SYMBOLS
RESERVED_NAMES = spec.RESERVED_NAMES
CODE_KEYWORDS = spec.CODE_KEYWORDS
VARIABLE_NAME = spec.VARIABLE_NAME


def extract_variables(content: str) -> list[str]:
    """Variable names in order of first appearance."""
    return spec.template_variables(content)


def render_preview(content: str, values: dict[str, str]) -> str:
    """The text the callee will hear, with each ${var} replaced by its value (or left as is when missing)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1)) or m.group(0), content or "")


# ----- One function per rule; each returns a list of ValidationErrors (empty when the rule holds). -----

def _worded(problem: spec.Problem | None) -> list[ValidationError]:
    if problem is None:
        return []
    message, params = _MESSAGES[problem.key](problem.params)
    return [ValidationError(message, code=problem.key, params=params)]


_MESSAGES = {
    "length": lambda p: (
        _("The content is empty.") if p["length"] < 1
        else _("The content has %(length)d characters; at most %(max)d are allowed, variables included."),
        {"length": p["length"], "max": p["max"]},
    ),
    "symbols": lambda p: (
        _("These symbols are not allowed (write them in words or use Chinese punctuation): %(symbols)s"),
        {"symbols": " ".join(p["symbols"])},
    ),
    "link": lambda p: (_("Links and web addresses are not allowed (found %(link)s)."), {"link": p["link"]}),
    "ip_address": lambda p: (_("IP addresses are not allowed (found %(ip)s)."), {"ip": p["ip"]}),
    "variable_name": lambda p: (
        _("Invalid variable name: %(names)s. A name starts with a letter and has only letters, digits and underscores."),
        {"names": ", ".join(p["names"])},
    ),
    "reserved_name": lambda p: (
        _("Reserved variable names cannot be used: %(names)s (reserved: email, mobile, id, nick, site)."),
        {"names": ", ".join(p["names"])},
    ),
    "adjacent": lambda p: (
        _("Variables %(left)s and %(right)s are next to each other; put words between them."),
        {"left": p["left"], "right": p["right"]},
    ),
    "only_variables": lambda p: (_("A template cannot be made of variables only; add the message text."), None),
    "repeated": lambda p: (_("Each variable may appear only once; repeated: %(names)s."), {"names": ", ".join(p["names"])}),
    "public_variables": lambda p: (
        _("Public-pool templates may have at most %(max)d variables; this one has %(count)d."),
        {"max": p["max"], "count": p["count"]},
    ),
    "code_variables": lambda p: (
        _("A verification-code template has exactly one variable (the code); this one has %(count)d."),
        {"count": p["count"]},
    ),
    "code_keyword": lambda p: (_("A verification-code template must contain one of 验证码, 注册码, 校验码 or 动态码."), None),
}


def check_length(content: str) -> list[ValidationError]:
    return _worded(spec.template_length_problem(content))


def check_symbols(content: str) -> list[ValidationError]:
    return _worded(spec.symbols_problem(content))


def check_links(content: str) -> list[ValidationError]:
    return _worded(spec.template_link_problem(content))


def check_ip_addresses(content: str) -> list[ValidationError]:
    return _worded(spec.template_ip_problem(content))


def check_variable_names(content: str) -> list[ValidationError]:
    return _worded(spec.variable_name_problem(content))


def check_reserved_names(content: str) -> list[ValidationError]:
    return _worded(spec.reserved_name_problem(content))


def check_adjacent_variables(content: str) -> list[ValidationError]:
    return _worded(spec.adjacent_problem(content))


def check_not_only_variables(content: str) -> list[ValidationError]:
    return _worded(spec.only_variables_problem(content))


def check_each_variable_once(content: str) -> list[ValidationError]:
    return _worded(spec.repeated_problem(content))


def check_public_variable_count(content: str, mode: str) -> list[ValidationError]:
    return _worded(spec.public_variable_count_problem(content, mode))


def check_code_variable_count(content: str, kind: str) -> list[ValidationError]:
    return _worded(spec.code_variable_count_problem(content, kind))


def check_code_keyword(content: str, kind: str) -> list[ValidationError]:
    return _worded(spec.code_keyword_problem(content, kind))


def template_errors(*, content: str, kind: str, mode: str) -> list[ValidationError]:
    """Every rule broken by this content, one message per rule (empty when the template is acceptable)."""
    errors: list[ValidationError] = []
    for problem in spec.template_problems(content=content, kind=kind, mode=mode):
        errors += _worded(problem)
    return errors
