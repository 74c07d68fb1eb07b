"""The Django admin, one module per area."""
from . import audit, calls, inbox, register  # noqa: F401
