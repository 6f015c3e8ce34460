"""The admin home: the sections and who changed what lately."""

from ...htmx import render
from ...scoping import admin_changes
from . import bp


@bp.get("/")
def index():
    """The admin home: the sections and the latest configuration changes (who changed what)."""
    return render("admin/index.html", changes=admin_changes())
