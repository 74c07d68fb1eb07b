"""The Django admin, one module per area."""
from . import audit, calls, campaigns, inbox, register  # noqa: F401
