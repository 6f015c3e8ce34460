"""Sign-in and sign-out for staff and client contacts."""

from .views import bp

__all__ = ["bp"]
