"""The agencies' public brand assets: stylesheet and logo."""

from .views import bp

__all__ = ["bp"]
