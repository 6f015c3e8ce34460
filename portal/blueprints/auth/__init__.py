"""Sign-in and sign-out for staff and client contacts."""

# The second-factor step registers its route on the one ``bp`` (made in views.py) when imported.
from . import second_factor  # noqa: F401
from .views import bp

__all__ = ["bp"]
