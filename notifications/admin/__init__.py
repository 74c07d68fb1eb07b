"""The Django admin, one module per area."""
from . import calls, register  # noqa: F401
