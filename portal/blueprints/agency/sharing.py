"""Sharing with the client (A2, A2a, C2): the share form with its guards, "Send online", and each
contact's landing link for the job."""

from flask import make_response, render_template, request, url_for
from flask_login import current_user

from ...htmx import redirect_for, render, toast
from ...models import Application, ClientContact, Job, Resume
from ...resume_files import LABELS
from ...scoping import get_application_or_404, get_job_or_404, get_scoped_or_404
from ...services import auth as auth_service
from ...services import sharing
from ...services.client_profile import is_hired, what_the_client_sees
from ...templating import in_zone
from ...unit_of_work import attempt, unit_of_work
from . import bp
from .consent import consent_context
from .forms import SendOnlineForm, ShareForm, choices, show_refusal


def _share_context(application: Application, form: ShareForm) -> dict:
    """What ``agency/_share_form.html`` needs: the guards, the candidate's files to attach and a
    preview of exactly what the client will see (from the form as it stands)."""
    resumes = sharing.candidate_resumes(application.candidate_id)
    videos = sharing.candidate_video_resumes(application.candidate_id)
    form.resume_id.choices = choices([("", "No resume file")] + [(r.id, resume_choice(r)) for r in resumes])
    form.video_resume_id.choices = choices([("", "No video")] + [(v.id, v.title) for v in videos])
    preview = what_the_client_sees(
        application.candidate,
        sharing.clean_fields(application.candidate, _submitted_fields(form)),
        show_contact_details=bool(form.show_contact_details.data),
        hired=is_hired(application),
        # A blind share stays anonymous until the client asks for an interview (A2a).
        anonymous=bool(form.blind.data) and not sharing.interview_requested(application),
    )
    return {
        "application": application,
        "guards": sharing.share_guards(application, current_user),
        "form": form,
        "preview": preview,
        "candidate": application.candidate,
        **consent_context(application.candidate, company_id=application.job.company_id, application_id=application.id),
    }


def resume_choice(resume: Resume) -> str:
    """A resume as the share form offers it: two uploads of "cv.pdf" differ by type and date."""
    return f"{resume.filename} ({LABELS.get(resume.content_type, 'file')}, uploaded {in_zone(resume.uploaded_at)})"


def _submitted_fields(form: ShareForm) -> list[dict]:
    return [
        {
            "label": e.form.label.data,
            "value": e.form.value.data,
            "hidden": e.form.hidden.data,
            "contact": e.form.contact.data == "1",
        }
        for e in form.fields
    ]


def _fill_from_profile(form: ShareForm, application: Application) -> None:
    """Start from what was shared before, else from the agency's profile template."""
    profile = application.shared_profile
    fields = profile.fields if profile is not None and profile.fields else sharing.profile_from_template(application)
    for item in [*fields, {"label": "", "value": ""}]:
        form.fields.append_entry(
            {
                "label": item["label"],
                "value": item["value"],
                "hidden": bool(item.get("hidden")),
                "contact": "1" if item.get("contact") else "",
            }
        )
    if profile is not None:
        form.resume_id.data, form.video_resume_id.data = profile.resume_id, profile.video_resume_id
        form.blind.data, form.show_contact_details.data = profile.blind, profile.show_contact_details


@bp.route("/applications/<int:application_id>/share", methods=["GET", "POST"])
def share(application_id: int):
    """Prepare and share one candidate: guards first, then the profile from the template, with a
    preview of what the client will see ("Preview" re-renders it without sharing)."""
    application = get_application_or_404(application_id)
    form = ShareForm()
    if request.method == "GET":
        _fill_from_profile(form, application)
        return render("agency/share.html", "agency/_share_form.html", **_share_context(application, form))
    context = _share_context(application, form)
    if not form.validate_on_submit():
        return render("agency/share.html", "agency/_share_form.html", status=422, **context)
    if "preview" in request.form:
        return render("agency/share.html", "agency/_share_form.html", **context)
    with attempt() as outcome:
        sharing.share_candidate(
            application,
            current_user,
            fields=_submitted_fields(form),
            show_contact_details=form.show_contact_details.data,
            resume_id=form.resume_id.data,
            video_resume_id=form.video_resume_id.data,
            consent_override_reason=form.consent_override_reason.data,
            blind=form.blind.data,
        )
    if outcome.refusal is not None:
        error = show_refusal(form, outcome.refusal)
        return render("agency/share.html", "agency/_share_form.html", status=422, error=error, **context)
    return toast(
        redirect_for(url_for("agency.job", job_id=application.job_id)), f"{application.candidate.name} is shared."
    )


def send_online_context(job: Job, *, form: SendOnlineForm | None = None, error=None, message=None) -> dict:
    """What ``agency/_send_online.html`` needs: the job's contacts to choose from and a preview of
    the e-mail (the candidates still to announce, the personal note as typed)."""
    form = form or SendOnlineForm(formdata=None)
    return {
        "job": job,
        "contacts": sharing.job_contacts(job),
        "online_form": form,
        "online_error": error,
        "online_message": message,
        "online_preview": sharing.online_message(job, current_user, form.note.data or ""),
    }


@bp.post("/jobs/<int:job_id>/send-online")
def send_online(job_id: int):
    """Email the chosen contacts the landing link and the newly shared candidates still awaiting
    review, with a personal note; "Preview" only re-renders the e-mail preview."""
    job = get_job_or_404(job_id)
    form = SendOnlineForm()
    error = message = None
    if not form.validate_on_submit():
        error = " ".join(form.note.errors) or "The form expired: reload the page and try again."
    elif "preview" in request.form:
        pass
    else:
        with attempt() as outcome:
            count = sharing.send_online(job, form.contact_ids.data, current_user, note=form.note.data or "")
        if outcome.refusal is not None:
            error = outcome.refusal.message
        else:
            message = f"Sent to {count} contact(s)."
            form = SendOnlineForm(formdata=None)
    html = render_template(
        "agency/_send_online.html", **send_online_context(job, form=form, error=error, message=message)
    )
    return make_response(html, 422 if error else 200)


def _job_and_contact(job_id: int, contact_id: int) -> tuple[Job, ClientContact]:
    return get_job_or_404(job_id), get_scoped_or_404(ClientContact, contact_id)


def _link_result(contact: ClientContact, message: str, ok: bool = True, url: str | None = None):
    """One contact's link result (``agency/_link_result.html``), with the message as a toast."""
    response = make_response(
        render_template("agency/_link_result.html", contact=contact, message=message, ok=ok, url=url),
        200 if ok else 422,
    )
    return toast(response, message, "info" if ok else "error")


@bp.post("/jobs/<int:job_id>/contacts/<int:contact_id>/link")
def copy_link(job_id: int, contact_id: int):
    """Reveal one contact's landing link for copying (a POST: it may create the token)."""
    job, contact = _job_and_contact(job_id, contact_id)
    if contact.company_id != job.company_id or not contact.active:
        return _link_result(contact, "That contact cannot receive links for this job.", ok=False)
    with unit_of_work():
        url = auth_service.reveal_landing_link(contact, job, current_user)
    return _link_result(contact, "Copy this link and send it to the contact.", url=url)


@bp.post("/jobs/<int:job_id>/contacts/<int:contact_id>/send-link")
def send_link(job_id: int, contact_id: int):
    """Email one contact the landing link for this job."""
    job, contact = _job_and_contact(job_id, contact_id)
    with attempt() as outcome:
        auth_service.email_landing_link(contact, job, current_user)
    if outcome.refusal is not None:
        return _link_result(contact, outcome.refusal.message, ok=False)
    return _link_result(contact, f"Link emailed to {contact.email}.")
