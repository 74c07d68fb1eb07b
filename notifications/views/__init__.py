"""Console views, one module per area."""
from .home import home

__all__ = ["home"]
