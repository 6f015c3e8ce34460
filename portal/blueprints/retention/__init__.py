"""The candidate's "keep my details / delete my details" page (issue 16): a public, scanner-safe link."""

from .views import bp

__all__ = ["bp"]
