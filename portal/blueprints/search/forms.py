"""The S5 query string as a form: every value is checked against what exists for the user."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from ...services import search as search_service


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class SearchForm(FlaskForm):
    """GET form (no CSRF: it changes nothing); names are the documented query-string keys."""

    class Meta:
        csrf = False

    q = StringField("Search", validators=[Optional(), Length(max=200)])
    job = SelectMultipleField("Jobs applied to", coerce=int, validators=[Optional()])
    job_title = StringField("Job title contains", validators=[Optional(), Length(max=100)])
    tag = SelectMultipleField("Tags", validate_choice=False, validators=[Optional()])
    reason = SelectMultipleField("Rejection reason", coerce=int, validators=[Optional()])
    stage = SelectField("Reached stage", coerce=_optional_int, validators=[Optional()])
    min_positive = IntegerField(
        "Positive scorecards at least (%)",
        validators=[Optional(), NumberRange(0, 100, "Enter a percentage from 0 to 100.")],
    )
    exclude_strong_no = BooleanField("Exclude anyone with a strong no")
    last_before = DateField("Last in process before", validators=[Optional()])
    last_after = DateField("Last in process on or after", validators=[Optional()])
    location = StringField("Location", validators=[Optional(), Length(max=200)])
    source = StringField("Source", validators=[Optional(), Length(max=100)])
    include_active = BooleanField("Include active candidates")
    sort = SelectField(
        "Sort by",
        choices=choices([("relevance", "Relevance"), ("last_in_process", "Last in process")]),
        validators=[Optional()],
    )
    page = IntegerField("Page", validators=[Optional(), NumberRange(1, 500, "Choose a page from 1 to 500.")])

    def load_choices(self, who) -> None:
        """Only values that exist for this user are accepted (and offered)."""
        self.job.choices = choices(search_service.job_choices(who))
        self.reason.choices = choices(search_service.reason_choices(who))
        self.stage.choices = choices([("", "Any stage"), *search_service.stage_choices(who)])
        self.who = who

    def validate_tag(self, field) -> None:
        """Tags must exist in the agency (checked one by one: there may be thousands)."""
        if len(field.data or []) > 20:
            raise ValidationError("Choose at most 20 tags.")
        for tag in field.data or []:
            if len(tag) > 80 or not search_service.value_exists(self.who, "tag", tag):
                raise ValidationError(f"No candidate has the tag {tag[:80]!r}.")

    def validate_location(self, field) -> None:
        """A location some candidate of the agency has."""
        if field.data and not search_service.value_exists(self.who, "location", field.data):
            raise ValidationError("Choose a location from the list.")

    def validate_source(self, field) -> None:
        """A source some application or candidate of the agency has."""
        if field.data and not search_service.value_exists(self.who, "source", field.data):
            raise ValidationError("Choose a source from the list.")

    def criteria(self) -> search_service.Criteria:
        """The validated values as search criteria."""
        return search_service.Criteria(
            q=(self.q.data or "").strip(),
            jobs=list(self.job.data or []),
            job_title=(self.job_title.data or "").strip(),
            tags=list(self.tag.data or []),
            reasons=list(self.reason.data or []),
            stage=self.stage.data,
            min_positive=self.min_positive.data,
            exclude_strong_no=bool(self.exclude_strong_no.data),
            last_before=self.last_before.data,
            last_after=self.last_after.data,
            location=self.location.data or None,
            source=self.source.data or None,
            include_active=bool(self.include_active.data),
            sort=self.sort.data or "relevance",
            page=self.page.data or 1,
        )


class ShortlistForm(FlaskForm):
    """Bulk "Add to a job's shortlist"."""

    job_id = SelectField("Job", coerce=_optional_int, validators=[Optional()])
    candidate = SelectMultipleField("Candidates", coerce=int, validate_choice=False)


class ImportForm(FlaskForm):
    """Upload a CSV or JSON export of past applicants."""

    file = FileField(
        "CSV or JSON file",
        validators=[FileRequired("Choose a file."), FileAllowed(["csv", "json"], "Upload a .csv or .json file.")],
    )
    # Issue 16: without it, a row bringing back an erased person's address is refused by position.
    add_erased = BooleanField("Add anyway people who asked to be erased before (each is logged)")


class SavedSearchForm(FlaskForm):
    """Save the search on screen under a name (the rules live in services/saved_searches.py)."""

    name = StringField("Name this search", validators=[Optional()])
    # The page's query string when it was rendered: what a browser without JavaScript saves.
    query = HiddenField()
