"""TTS template rules (reference §1.6): variable syntax, per-kind and per-mode limits."""
import re

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
