"""The agency workspace for recruiters and admins (spec section A)."""

from .views import bp

__all__ = ["bp"]
