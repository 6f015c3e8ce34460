"""The admin home: the sections and who changed what lately."""

from ...extensions import db
from ...htmx import render
from ...models import Activity
from ...scoping import scoped
from . import bp


@bp.get("/")
def index():
    """The admin home: the sections and the latest configuration changes (who changed what)."""
    changes = db.session.scalars(
        scoped(Activity).where(Activity.verb.startswith("admin.")).order_by(Activity.id.desc()).limit(20)
    ).all()
    return render("admin/index.html", changes=changes)
