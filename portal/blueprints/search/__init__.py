"""Candidate rediscovery search for agency staff, and past-applicant import for admins (S)."""

from .views import bp

__all__ = ["bp"]
