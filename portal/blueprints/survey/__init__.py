"""The candidate experience survey page (issue 15 item 3): a public, expiring, scanner-safe link."""

from .views import bp

__all__ = ["bp"]
