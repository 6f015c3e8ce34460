"""Candidate rediscovery search for agency staff, and past-applicant import for admins (S)."""

from . import saved  # noqa: F401  (registers the saved-search routes on bp)
from .views import bp

__all__ = ["bp"]
