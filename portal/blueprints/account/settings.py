"""The signed-in staff member's own account: their timezone and alert e-mails, changing the
password, turning a second factor on or off."""

import functools

from flask import abort, flash, url_for
from flask_login import current_user, login_required

from ... import sessions
from ...forms import EmptyForm
from ...htmx import redirect_for, render
from ...ratelimit import Wait, retry_after
from ...services import login_throttle, passwords, preferences, two_factor
from ...unit_of_work import attempt, unit_of_work
from .forms import ChangePasswordForm, ConfirmSecondFactorForm, DisableSecondFactorForm, PreferencesForm
from .views import bp


def staff_only(view):
    """Signed-in staff only; a client contact gets a 404 like any page outside their portal."""

    @functools.wraps(view)
    @login_required
    def guarded(*args, **kwargs):
        if not current_user.is_staff:
            abort(404)
        return view(*args, **kwargs)

    return guarded


def _page(status: int = 200, recovery_codes: list[str] | None = None, **forms):
    """The account page; ``forms`` replaces the blank form of the section that was just submitted."""
    user = current_user._get_current_object()
    on = two_factor.required(user)
    return render(
        "account/settings.html",
        status=status,
        preferences_form=forms.get("preferences_form")
        or PreferencesForm(formdata=None, timezone=user.timezone, alert_email=user.alert_email),
        password_form=forms.get("password_form") or ChangePasswordForm(formdata=None),
        start_form=EmptyForm(formdata=None),
        confirm_form=forms.get("confirm_form") or ConfirmSecondFactorForm(formdata=None),
        disable_form=forms.get("disable_form") or DisableSecondFactorForm(formdata=None),
        two_factor_on=on,
        enrolment=two_factor.enrolment(user) if user.totp_secret and not on else None,
        recovery_left=two_factor.remaining_recovery_codes(user) if on else None,
        recovery_codes=recovery_codes,
        min_length=passwords.MIN_LENGTH,
    )


def _refused_before_the_password(form, section: str, password_field):
    """The answer before a password typed here is checked: the page with ``form`` in its ``section``
    when the form is invalid (422) or the sign-in back-off says wait (429: a borrowed session cannot
    guess the password either); None when the password may be checked."""
    if not form.validate_on_submit():
        return _page(422, **{section: form})
    email = current_user.email
    with unit_of_work():
        allowed = login_throttle.claim_attempt(email)
    if allowed:
        return None
    wait = Wait(login_throttle.seconds_to_wait(email))
    password_field.errors.append(f"{login_throttle.THROTTLED} {wait.words}")
    return retry_after(_page(429, **{section: form}), wait)


def _password_attempt_over(email: str) -> None:
    with unit_of_work():
        login_throttle.attempt_succeeded(email)


def _show_refusal(form, refusal) -> None:
    field = getattr(form, refusal.field or "", None) or next(iter(form))
    field.errors = [*field.errors, refusal.message]


@bp.get("/")
@staff_only
def settings():
    """Timezone, alert e-mails, password and second factor of the signed-in staff member."""
    return _page()


@bp.post("/preferences")
@staff_only
def save_preferences():
    """Save the timezone (every time shown to this person) and how alerts reach them."""
    form = PreferencesForm()
    if not form.validate_on_submit():
        return _page(422, preferences_form=form)
    with attempt() as outcome:
        preferences.set_staff_preferences(
            current_user._get_current_object(), timezone=form.timezone.data, alert_email=form.alert_email.data
        )
    if outcome.refusal is not None:
        _show_refusal(form, outcome.refusal)
        return _page(422, preferences_form=form)
    flash("Your preferences are saved.")
    return redirect_for(url_for("account.settings") + "#preferences")


@bp.post("/password")
@staff_only
def change_password():
    """Change the password: the current one, then the new one twice. Every other session ends; this
    one goes on, on a fresh session id."""
    form = ChangePasswordForm()
    if (refused := _refused_before_the_password(form, "password_form", form.current)) is not None:
        return refused
    user, email = current_user._get_current_object(), current_user.email
    with attempt() as outcome:
        passwords.change_password(user, form.current.data, form.password.data, form.confirm.data)
    if outcome.refusal is not None:
        if outcome.refusal.field != "current":
            _password_attempt_over(email)  # the current password was right
        _show_refusal(form, outcome.refusal)
        return _page(422, password_form=form)
    _password_attempt_over(email)
    sessions.start(user)
    flash("Your password is changed. You were signed out everywhere else.")
    return redirect_for(url_for("account.settings"))


@bp.post("/second-factor")
@staff_only
def start_second_factor():
    """Start setting up an authenticator app: a fresh secret, not in force until confirmed."""
    form = EmptyForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            two_factor.start_enrolment(current_user._get_current_object())
        if outcome.refusal is not None:
            flash(outcome.refusal.message)
    return redirect_for(url_for("account.settings"))


@bp.post("/second-factor/confirm")
@staff_only
def confirm_second_factor():
    """Confirm the app with its first code: the factor is on, and the recovery codes are shown once."""
    form = ConfirmSecondFactorForm()
    if not form.validate_on_submit():
        return _page(422, confirm_form=form)
    user = current_user._get_current_object()
    codes: list[str] = []
    with attempt() as outcome:
        codes = two_factor.confirm_enrolment(user, form.code.data)
    if outcome.refusal is not None:
        _show_refusal(form, outcome.refusal)
        return _page(422, confirm_form=form)
    sessions.start(user)
    return _page(recovery_codes=codes)


@bp.post("/second-factor/disable")
@staff_only
def disable_second_factor():
    """Turn the second factor off, with the password and a code (or a recovery code)."""
    form = DisableSecondFactorForm()
    if (refused := _refused_before_the_password(form, "disable_form", form.password)) is not None:
        return refused
    user, email = current_user._get_current_object(), current_user.email
    with attempt() as outcome:
        two_factor.disable(user, form.password.data, form.code.data)
    if outcome.refusal is not None:
        _show_refusal(form, outcome.refusal)
        return _page(422, disable_form=form)
    _password_attempt_over(email)
    flash("The second factor is off. Sign-in asks for your password only.")
    return redirect_for(url_for("account.settings"))
