"""Candidate self-scheduling (A8, beyond): a public, expiring, scanner-safe link."""

from .views import bp

__all__ = ["bp"]
