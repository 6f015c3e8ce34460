"""Sign-in and sign-out for staff and client contacts."""

# The second-factor step and the reminders' unsubscribe link register their routes on the one
# ``bp`` (made in views.py) when imported.
from . import reminders, second_factor  # noqa: F401
from .views import bp

__all__ = ["bp"]
