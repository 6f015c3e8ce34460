"""The candidate's consent page (A2a, beyond): a public, expiring, scanner-safe link."""

from .views import bp

__all__ = ["bp"]
