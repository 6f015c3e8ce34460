"""The retention policy (issue 16): switched on, months of inactivity, days to answer, with a dry
run of who the policy would ask or anonymise now, read before switching it on."""

from flask import request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField
from wtforms.validators import InputRequired, NumberRange

from ...htmx import redirect_for, render, toast
from ...models import Agency
from ...services import retention
from ...unit_of_work import attempt
from . import bp


class RetentionForm(FlaskForm):
    """The agency's policy (the service checks the ranges again)."""

    enabled = BooleanField("Ask and anonymise inactive candidates")
    months = IntegerField(
        "Months without activity before asking",
        validators=[
            InputRequired("Enter a number of months."),
            NumberRange(1, 240, "Enter between 1 and 240 months."),
        ],
    )
    answer_days = IntegerField(
        "Days to answer before the details are deleted",
        validators=[
            InputRequired("Enter a number of days."),
            NumberRange(1, 365, "Enter between 1 and 365 days."),
        ],
    )


@bp.route("/retention", methods=["GET", "POST"])
def retention_policy():
    """The policy form and the dry run: who would be asked, who is waiting, who would be anonymised."""
    agency = current_user.agency
    if request.method == "GET":
        form = RetentionForm(
            enabled=agency.retention_enabled, months=agency.retention_months, answer_days=agency.retention_answer_days
        )
        return _page(agency, form)
    form = RetentionForm()
    if not form.validate_on_submit():
        return _page(agency, form, status=422)
    policy = retention.RetentionPolicy(bool(form.enabled.data), form.months.data, form.answer_days.data)
    with attempt() as outcome:
        retention.update_policy(agency, current_user, policy)
    if outcome.refusal is not None:
        field = getattr(form, outcome.refusal.field or "", None)
        if field is not None:
            field.errors = [outcome.refusal.message]
        return _page(agency, form, status=422, error=None if field is not None else outcome.refusal.message)
    return toast(redirect_for(url_for("admin.retention_policy")), "Retention policy saved.")


def _page(agency: Agency, form: RetentionForm, *, status: int = 200, error: str | None = None):
    found = retention.cases(agency)
    by_action = {action: [c for c in found if c.action == action] for action in retention.ACTIONS}
    return render("admin/retention.html", status=status, form=form, agency=agency, by_action=by_action, error=error)
