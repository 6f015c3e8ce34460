"""Operational endpoints: health check and the development mail viewer."""

from .views import bp

__all__ = ["bp"]
