"""Staff password login, client magic-link sign-in (C1), link landing (C2, C2a), logout."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from ... import sessions, trusted_device
from ...extensions import limiter
from ...forms import EmptyForm
from ...htmx import redirect_for, render
from ...ratelimit import Wait, retry_after
from ...scoping import agency_or_404
from ...services import auth as auth_service
from ...services import login_throttle, security_log, two_factor
from ...unit_of_work import attempt, unit_of_work
from .forms import ClientSignInForm, StaffLoginForm

bp = Blueprint("auth", __name__)


def _form_email() -> str:
    """Rate-limit key: the address being asked about, so one inbox cannot be flooded."""
    return "email:" + (request.form.get("email") or "").strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["STAFF_LOGIN_RATE"], methods=["POST"])
def staff_login():
    """Agency staff sign in with email and password. Per address: back-off, not a lock-out."""
    form = StaffLoginForm(email=request.args.get("email", ""))
    throttled = False
    if form.validate_on_submit():
        device = trusted_device.device_for(form.email.data)  # its own back-off: strangers cannot lock it out
        with unit_of_work():  # committed before the (slow) hash check: parallel guesses count too
            throttled = not login_throttle.claim_attempt(form.email.data, device=device)
        user = None if throttled else auth_service.authenticate_staff(form.email.data, form.password.data)
        if user is not None and two_factor.required(user):
            # Not signed in yet: the back-off record stays until the code is right too.
            session.clear()
            session[two_factor.SESSION_KEY] = {**two_factor.pending_state(user), "next": request.args.get("next")}
            return redirect_for(url_for("auth.second_factor"))
        if user is not None:
            with unit_of_work():
                login_throttle.attempt_succeeded(form.email.data, device=device)
                security_log.record_security_event("staff_sign_in", agency_id=user.agency_id, actor=user, subject=user)
            sessions.start(user)
            response = redirect_for(_safe_next(request.args.get("next")) or url_for("agency.index"))
            return trusted_device.remember(response, form.email.data)
        with unit_of_work():  # its own: the request fails, the record of it stays
            security_log.staff_sign_in_failed(form.email.data, "throttled" if throttled else "password")
        if throttled:
            wait = Wait(login_throttle.seconds_to_wait(form.email.data, device=device))
            form.password.errors.append(f"{login_throttle.THROTTLED} {wait.words}")
            page = render("auth/staff_login.html", "auth/_staff_login_form.html", status=429, form=form)
            return retry_after(page, wait)
        form.password.errors.append("That email and password do not match an active account.")
    status = 422 if form.errors else 200
    return render("auth/staff_login.html", "auth/_staff_login_form.html", status=status, form=form)


@bp.route("/<slug>/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_PER_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_PER_EMAIL"], key_func=_form_email, methods=["POST"])
def client_login(slug: str):
    """A client contact asks for a sign-in link; the answer never says whether the email is known."""
    agency = agency_or_404(slug)
    form = ClientSignInForm()
    if request.method == "GET":
        _remember_next(slug)
    if form.validate_on_submit():
        with attempt() as outcome:
            auth_service.request_sign_in(agency, form.email.data)
        if outcome.refusal is None:
            _remember_next(slug)
            # The htmx form swaps itself (outerHTML) on a refusal; the answer replaces the whole
            # sign-in card instead, so the page keeps one h1 and no form is left to resubmit.
            response = render("auth/check_email.html", "auth/_check_email.html", agency=agency, email=form.email.data)
            response.headers["HX-Retarget"] = "#sign-in"
            response.headers["HX-Reswap"] = "outerHTML"
            return response
        form.email.errors.append(outcome.refusal.message)
    status = 422 if form.errors else 200
    return render("auth/client_login.html", "auth/_client_login_form.html", status=status, agency=agency, form=form)


@bp.get("/<slug>/link/<token>")
def link(slug: str, token: str):
    """Show "Continue" for a valid link (C2a: a GET changes nothing), or explain why it is not."""
    agency = agency_or_404(slug)
    check = auth_service.check_link(agency, token)
    if check is None:
        abort(404)
    if check.state == "ok":
        already_in = current_user.is_authenticated and current_user.is_contact and current_user.id == check.contact.id
        if already_in and check.token.kind == "landing":
            return redirect(_destination(check, _to()))
        return render_template("auth/continue.html", agency=agency, check=check, form=EmptyForm(), to=_to())
    return _link_problem(agency, check, token)


@bp.post("/<slug>/link/<token>")
def redeem(slug: str, token: str):
    """The Continue button: sign the contact in and land on the job (or home)."""
    agency = agency_or_404(slug)
    with unit_of_work():
        check = auth_service.redeem_link(agency, token)
    if check is None:
        abort(404)
    if check.state != "ok":
        return _link_problem(agency, check, token)
    asked_for = session.get(CLIENT_NEXT)
    sessions.start(check.contact, revealed_by=check.token.revealed_by_user_id)
    if check.job is None and asked_for and _client_next(asked_for, slug):
        # A sign-in link asked for after a session ended: back to the page the contact wanted.
        return redirect_for(asked_for)
    return redirect_for(_destination(check, _to()))


@bp.post("/<slug>/link/<token>/resend")
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_PER_IP"])
def resend(slug: str, token: str):
    """Email a fresh link to the address on file for an expired or used link."""
    agency = agency_or_404(slug)
    check = auth_service.check_link(agency, token)
    if check is None:
        abort(404)
    if check.state != "ok":
        with unit_of_work():
            auth_service.resend_link(check)
    return render_template(
        "auth/check_email.html",
        agency=agency,
        email=None,
        link_kind="landing" if check.job is not None else "sign_in",
        job_title=check.job.title if check.job is not None else None,
    )


@bp.post("/logout")
def logout():
    """Sign out this session: its id is recorded as ended, so a copy of the cookie stops working too.
    Contacts return to their agency's sign-in page."""
    target = url_for("auth.staff_login")
    if current_user.is_authenticated:
        if current_user.is_contact:
            target = url_for("auth.client_login", slug=current_user.agency.slug)
        with unit_of_work():
            auth_service.end_session(session[sessions.SESSION_ID], sessions.ends_at(current_user, session))
            security_log.record_security_event(
                "logout", agency_id=current_user.agency_id, actor=current_user, subject=current_user
            )
    logout_user()
    session.clear()
    return redirect_for(target)


@bp.get("/signed-out")
def signed_out():
    """Where a contact lands when their session ended and the agency is unknown."""
    return render_template("auth/signed_out.html")


def _to() -> int | None:
    """The candidate a landing link leads to (``?to=`` on a reminder's links), if any."""
    return request.args.get("to", type=int)


def _destination(check: auth_service.LinkCheck, to: int | None = None) -> str:
    slug = check.contact.agency.slug
    candidate_id = auth_service.landing_candidate(check, to)
    if candidate_id is not None:
        return url_for("client.candidate", slug=slug, application_id=candidate_id)
    if check.job is not None:
        return url_for("client.job", slug=slug, job_id=check.job.id)
    return url_for("client.index", slug=slug)


def _link_problem(agency, check: auth_service.LinkCheck, token: str):
    return render_template("auth/link_problem.html", agency=agency, check=check, token=token, form=EmptyForm()), 410


# Session key: the portal page a contact asked for when their session had ended.
CLIENT_NEXT = "client_next"


def _client_next(target: str | None, slug: str) -> str | None:
    """``target`` when it is a page of this agency's portal (same site, same agency), else None."""
    safe = _safe_next(target)
    return safe if safe and safe.startswith(f"/{slug}/portal/") else None


def _remember_next(slug: str) -> None:
    """Keep the validated ``next`` of the sign-in page until a sign-in link is redeemed in this
    browser (the link itself names no page: it is the same for every request)."""
    target = _client_next(request.args.get("next"), slug)
    if target:
        session[CLIENT_NEXT] = target


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect would turn the login page into a phishing aid.

    Browsers read a backslash as a slash and drop tabs and newlines, so ``/\\evil.example``
    leaves the site when followed as ``HX-Redirect`` (nothing percent-encodes that header).
    """
    if not target or "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
