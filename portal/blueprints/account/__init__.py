"""The staff member's account: choosing a password from an invitation link (B2), resetting it by email,
changing it, and the optional second factor."""

# Each module registers its routes on the one ``bp`` (made in views.py); importing them is what adds them.
from . import reset, settings  # noqa: F401
from .views import bp

__all__ = ["bp"]
