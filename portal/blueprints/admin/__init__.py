"""Agency administration (spec section B) and the mail outbox for admins (M1)."""

from .views import bp

__all__ = ["bp"]
