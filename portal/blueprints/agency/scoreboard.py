"""The scoreboard (issue 15 item 4): figures about clients and the desk, with a CSV download.

The filters are the documented query-string keys ``from``, ``to`` (YYYY-MM-DD, days in the
viewer's zone), ``client`` (company id) and ``recruiter`` (user id); ``format=csv`` downloads the
table (``figure=<key>`` for one figure's). Without any of the four keys the page shows the last 90
days; the form always sends them, so an empty "From" means all time."""

from flask import make_response, request
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from ...htmx import render
from ...services import ServiceError
from ...services import scoreboard as scoreboard_service
from ...templating import viewer_zone
from . import bp
from .forms import choices

FILTER_KEYS = ("from", "to", "client", "recruiter")


def _optional_int(value):
    """'' means "all"; anything that is not a number is kept as text so the choice check refuses it."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


class ScoreboardForm(FlaskForm):
    """GET form (no CSRF: it changes nothing); its names are the documented query-string keys."""

    class Meta:
        csrf = False

    to = DateField("To", validators=[Optional()])
    client = SelectField("Client", coerce=_optional_int, validators=[Optional()], validate_choice=False)
    recruiter = SelectField("Recruiter", coerce=_optional_int, validators=[Optional()], validate_choice=False)

    def load_choices(self, who) -> None:
        """Only the agency's clients and users are offered (and accepted)."""
        self.client.choices = choices([("", "All clients"), *scoreboard_service.company_choices(who)])
        self.recruiter.choices = choices([("", "All recruiters"), *scoreboard_service.recruiter_choices(who)])

    def check(self) -> bool:
        """Validate, with messages that name the field; day formats are spelled out."""
        valid = self.validate()
        for date_field in (self["from"], self.to):
            if date_field.errors:
                date_field.errors = [f"Enter the {date_field.label.text.lower()} day as YYYY-MM-DD."]
        for select_field, what in ((self.client, "clients"), (self.recruiter, "recruiters")):
            known = {choice.value for choice in select_field.choices if choice.value != ""}
            if select_field.data is not None and select_field.data not in known:
                select_field.errors = [f"Choose one of the agency's {what}."]
                valid = False
        return valid


# "from" is a Python keyword: the field is added by name.
setattr(ScoreboardForm, "from", DateField("From", validators=[Optional()]))


def _filters(form: ScoreboardForm):
    """The service's filters from a valid form, or None with the refusal beside its field."""
    try:
        return scoreboard_service.make_filters(
            current_user,
            form["from"].data,
            form.to.data,
            form.client.data,
            form.recruiter.data,
        )
    except ServiceError as refusal:
        target = form[refusal.field] if refusal.field in form else form["from"]
        target.errors = [*target.errors, refusal.message]
        return None


@bp.get("/scoreboard")
def scoreboard():
    """How clients and the desk are doing, for the user's jobs (all jobs for admins)."""
    form = ScoreboardForm(request.args)
    form.load_choices(current_user)
    if not any(key in request.args for key in FILTER_KEYS):
        form["from"].data = scoreboard_service.default_from(current_user)
    filters = _filters(form) if form.check() else None
    if filters is None:
        return render("agency/scoreboard.html", status=422, form=form, figures=[], zone=viewer_zone())
    figures = scoreboard_service.scoreboard(current_user, filters)
    if request.args.get("format") == "csv":
        wanted = request.args.get("figure")
        chosen = [figure for figure in figures if figure.key == wanted] or figures
        response = make_response(scoreboard_service.figures_csv(chosen))
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
        name = f"scoreboard-{chosen[0].key}.csv" if wanted and len(chosen) == 1 else "scoreboard.csv"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return render("agency/scoreboard.html", form=form, figures=figures, zone=viewer_zone())
