"""The second step of a staff sign-in with a second factor: the code from the app, or a recovery code.

Between the password and the code the session holds only a pending entry (who, their session
version, since when, how many codes tried): it is not signed in. The entry lasts a few minutes and
a few codes; beyond that the person starts again with the password. Every code tried also counts in
the per-account back-off of the password (``login_throttle``), which only a right code clears, so
starting again does not buy more guesses.
"""

from flask import current_app, flash, session, url_for

from ... import sessions
from ...extensions import limiter
from ...htmx import redirect_for, render
from ...ratelimit import Wait, retry_after
from ...services import login_throttle, security_log, two_factor
from ...unit_of_work import unit_of_work
from .forms import SecondFactorForm
from .views import _safe_next, bp


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["STAFF_LOGIN_RATE"], methods=["POST"])
def second_factor():
    """Ask for the code after a right password; a right code signs in on a fresh session."""
    pending = session.get(two_factor.SESSION_KEY)
    user = two_factor.pending_user(pending)
    if user is None or not isinstance(pending, dict):
        if session.pop(two_factor.SESSION_KEY, None) is not None:
            flash("Please sign in again.")
        return redirect_for(url_for("auth.staff_login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        session[two_factor.SESSION_KEY] = {**pending, "tries": int(pending["tries"]) + 1}
        email = user.email
        with unit_of_work():
            throttled = not login_throttle.claim_attempt(email)
        accepted = False
        if not throttled:
            with unit_of_work():
                accepted = two_factor.verify(user, form.code.data)
        if accepted:
            with unit_of_work():
                login_throttle.attempt_succeeded(email)
                security_log.record_security_event(
                    "staff_sign_in", agency_id=user.agency_id, actor=user, subject=user, second_factor=True
                )
            sessions.start(user)
            return redirect_for(_safe_next(pending.get("next")) or url_for("agency.index"))
        with unit_of_work():  # its own: the request fails, the record of it stays
            security_log.staff_sign_in_failed(email, "throttled" if throttled else "second factor")
        if throttled:
            wait = Wait(login_throttle.seconds_to_wait(email))
            form.code.errors.append(f"{login_throttle.THROTTLED} {wait.words}")
            page = render("auth/second_factor.html", "auth/_second_factor_form.html", status=429, form=form)
            return retry_after(page, wait)
        form.code.errors.append(two_factor.WRONG_CODE)
    status = 422 if form.errors else 200
    return render("auth/second_factor.html", "auth/_second_factor_form.html", status=status, form=form)
