"""Account set-up for invited agency users: choosing a password from the emailed link (B2)."""

from .views import bp

__all__ = ["bp"]
