"""Forms shared across blueprints."""

from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """A bare POST button: carries nothing but the CSRF token."""
