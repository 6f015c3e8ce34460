"""The client portal: what a client contact sees (spec section C)."""

from .views import bp

__all__ = ["bp"]
