"""The one place that scopes queries to a principal.

Staff see their agency (confidential jobs only when on the hiring team, or admins). Client
contacts see open and closed jobs of their own company, and only candidates currently shared on
them. Anything outside the scope is a 404, never a 403, so ids cannot be probed.
"""

from flask import abort, g, request
from flask_login import current_user
from sqlalchemy import Select, exists, or_, select

from .extensions import db
from .models import (
    Activity,
    Agency,
    Alert,
    Application,
    Candidate,
    ClientCompany,
    ClientContact,
    Interview,
    InterviewRequest,
    Job,
    MailOutbox,
    ProfileTemplate,
    Resume,
    SharedProfile,
    Task,
    User,
    job_team,
)


def agency_by_slug(slug: str) -> Agency | None:
    """The agency for a URL slug (one indexed lookup, memoised for the request)."""
    cache = g.setdefault("_agency_by_slug", {})
    if slug not in cache:
        cache[slug] = db.session.scalar(select(Agency).where(Agency.slug == slug))
    return cache[slug]


def agency_or_404(slug: str) -> Agency:
    """The agency for a slug, or a 404."""
    agency = agency_by_slug(slug)
    if agency is None:
        abort(404)
    return agency


def current_agency() -> Agency | None:
    """The agency for this request: the principal's, else the one named in the URL."""
    if current_user and current_user.is_authenticated:
        return current_user.agency
    slug = (request.view_args or {}).get("slug")
    return agency_by_slug(slug) if slug else None


def principal():
    """The signed-in principal; views using this module are always behind login."""
    if not current_user.is_authenticated:
        abort(404)
    return current_user._get_current_object()


def scoped(model, who=None) -> Select:
    """``SELECT model`` limited to the principal's agency."""
    who = who or principal()
    return select(model).where(model.agency_id == who.agency_id)


def get_scoped_or_404(model, object_id: int, who=None):
    """Load one row of the principal's agency or raise 404."""
    row = db.session.scalar(scoped(model, who).where(model.id == object_id))
    if row is None:
        abort(404)
    return row


def jobs_query(who=None) -> Select:
    """Jobs the principal may see."""
    who = who or principal()
    query = scoped(Job, who)
    if isinstance(who, ClientContact):
        return query.where(Job.company_id == who.company_id)
    if isinstance(who, User) and not who.is_admin:
        on_team = exists().where(job_team.c.job_id == Job.id, job_team.c.user_id == who.id)
        query = query.where(or_(Job.confidential.is_(False), Job.owner_id == who.id, on_team))
    return query


def get_job_or_404(job_id: int, who=None) -> Job:
    """One visible job or 404."""
    job = db.session.scalar(jobs_query(who).where(Job.id == job_id))
    if job is None:
        abort(404)
    return job


def candidates_query(who=None) -> Select:
    """Candidates the staff principal may see: the agency's, except people whose every
    application is on a job hidden from them (confidential, not on its team). Admins see all."""
    who = who or principal()
    if not isinstance(who, User):
        abort(404)
    query = scoped(Candidate, who)
    if not who.is_admin:
        visible_jobs = jobs_query(who).with_only_columns(Job.id)
        has_any = exists().where(Application.candidate_id == Candidate.id)
        has_visible = exists().where(Application.candidate_id == Candidate.id, Application.job_id.in_(visible_jobs))
        query = query.where(or_(~has_any, has_visible))
    return query


def get_candidate_or_404(candidate_id: int, who=None) -> Candidate:
    """One candidate the staff principal may see, or 404."""
    row = db.session.scalar(candidates_query(who).where(Candidate.id == candidate_id))
    if row is None:
        abort(404)
    return row


def visible_candidate(candidate_id: int, who=None) -> Candidate | None:
    """The candidate if the staff principal may see them, else None (to name them, or not)."""
    return db.session.scalar(candidates_query(who).where(Candidate.id == candidate_id))


def get_resume_or_404(resume_id: int, who=None) -> Resume:
    """A resume of a candidate the staff principal may see, or 404 (its content loads on use)."""
    row = db.session.scalar(
        select(Resume).where(
            Resume.id == resume_id, Resume.candidate_id.in_(candidates_query(who).with_only_columns(Candidate.id))
        )
    )
    if row is None:
        abort(404)
    return row


def shared_applications_query(who=None) -> Select:
    """For a client contact: applications currently shared on their company's jobs."""
    who = who or principal()
    if not isinstance(who, ClientContact):
        abort(404)
    visible_jobs = jobs_query(who).with_only_columns(Job.id)
    return (
        select(Application)
        .join(SharedProfile, SharedProfile.application_id == Application.id)
        .where(
            Application.agency_id == who.agency_id,
            SharedProfile.unshared_at.is_(None),
            Application.job_id.in_(visible_jobs),
        )
    )


def get_shared_application_or_404(application_id: int, who=None) -> Application:
    """One application shared with the contact's company, or 404."""
    row = db.session.scalar(shared_applications_query(who).where(Application.id == application_id))
    if row is None:
        abort(404)
    return row


def client_share_state(application_id: int, who=None) -> str | None:
    """For a client contact: "shared" when the application is shared with their company now,
    "unshared" when it was and no longer is, None when it never was (or is not theirs at all).
    The client blueprint checks it before every route that names an application (A2, C10)."""
    who = who or principal()
    if not isinstance(who, ClientContact):
        return None
    unshared_at = db.session.execute(
        select(SharedProfile.unshared_at)
        .join(Application, Application.id == SharedProfile.application_id)
        .where(
            Application.id == application_id,
            Application.agency_id == who.agency_id,
            Application.job_id.in_(jobs_query(who).with_only_columns(Job.id)),
        )
    ).first()
    if unshared_at is None:
        return None
    return "shared" if unshared_at[0] is None else "unshared"


def get_company_application_or_404(application_id: int, who=None) -> Application:
    """For a client action: an application on the contact's company's jobs, locked for update.

    Unlike ``get_shared_application_or_404`` it also returns one that was shared and then
    unshared, so the action can say so clearly (C10); one never shared stays a 404.
    """
    who = who or principal()
    if not isinstance(who, ClientContact):
        abort(404)
    visible_jobs = jobs_query(who).with_only_columns(Job.id)
    row = db.session.scalar(
        select(Application)
        .join(SharedProfile, SharedProfile.application_id == Application.id)
        .where(
            Application.id == application_id,
            Application.agency_id == who.agency_id,
            Application.job_id.in_(visible_jobs),
        )
        .with_for_update(of=Application)
    )
    if row is None:
        abort(404)
    return row


def agency_users(who=None) -> list[User]:
    """The users of the principal's agency: active ones first, then by name."""
    return list(db.session.scalars(scoped(User, who).order_by(User.active.desc(), User.name)))


def client_companies(who=None) -> list[ClientCompany]:
    """The client companies of the principal's agency, by name."""
    return list(db.session.scalars(scoped(ClientCompany, who).order_by(ClientCompany.name)))


def agency_profile_templates(who=None) -> list[ProfileTemplate]:
    """The profile templates of the principal's agency, by name."""
    return list(db.session.scalars(scoped(ProfileTemplate, who).order_by(ProfileTemplate.name)))


def admin_changes(limit: int = 20, who=None) -> list[Activity]:
    """The latest configuration changes in the principal's agency (``admin.*`` timeline entries),
    newest first."""
    query = scoped(Activity, who).where(Activity.verb.startswith("admin.")).order_by(Activity.id.desc())
    return list(db.session.scalars(query.limit(limit)))


def unsent_mail(limit: int = 200, who=None) -> list[MailOutbox]:
    """The principal's agency's messages not sent yet or failed for good, newest first."""
    query = scoped(MailOutbox, who).where(MailOutbox.status != "sent").order_by(MailOutbox.id.desc())
    return list(db.session.scalars(query.limit(limit)))


def own_company_has_logo(who=None) -> bool:
    """For a client contact: whether their own company has a logo (without loading the image)."""
    who = who or principal()
    if not isinstance(who, ClientContact):
        return False
    query = select(ClientCompany.id).where(ClientCompany.id == who.company_id, ClientCompany.logo_png.is_not(None))
    return db.session.scalar(query) is not None


def own_company_logo_or_404(who=None) -> bytes:
    """For a client contact: their own company's logo (PNG). Never another company's, by any id:
    company ids would otherwise reveal who the agency's clients are."""
    who = who or principal()
    if not isinstance(who, ClientContact):
        abort(404)
    logo = db.session.scalar(select(ClientCompany.logo_png).where(ClientCompany.id == who.company_id))
    if not logo:
        abort(404)
    return logo


def visible_job_ids(who=None) -> Select:
    """``SELECT job.id`` of the jobs the principal may see, for ``IN`` clauses."""
    return jobs_query(who).with_only_columns(Job.id)


def _staff(who=None) -> User:
    who = who or principal()
    if not isinstance(who, User):
        abort(404)
    return who


def applications_query(who=None) -> Select:
    """Applications the staff principal may see: the agency's, on jobs visible to them."""
    who = _staff(who)
    return scoped(Application, who).where(Application.job_id.in_(visible_job_ids(who)))


def get_application_or_404(application_id: int, who=None) -> Application:
    """One application the staff principal may see (confidential jobs included when on the team), or 404."""
    row = db.session.scalar(applications_query(who).where(Application.id == application_id))
    if row is None:
        abort(404)
    return row


def _visible_application_ids(who: User) -> Select:
    return applications_query(who).with_only_columns(Application.id)


def get_interview_request_or_404(request_id: int, who=None) -> InterviewRequest:
    """One interview request on an application the staff principal may see, or 404."""
    who = _staff(who)
    row = db.session.scalar(
        scoped(InterviewRequest, who).where(
            InterviewRequest.id == request_id, InterviewRequest.application_id.in_(_visible_application_ids(who))
        )
    )
    if row is None:
        abort(404)
    return row


def get_interview_or_404(interview_id: int, who=None) -> Interview:
    """One interview on an application the staff principal may see, or 404."""
    who = _staff(who)
    row = db.session.scalar(
        scoped(Interview, who).where(
            Interview.id == interview_id, Interview.application_id.in_(_visible_application_ids(who))
        )
    )
    if row is None:
        abort(404)
    return row


def tasks_query(who=None) -> Select:
    """Tasks the staff principal may see: the agency's, except those of jobs hidden from them."""
    who = _staff(who)
    return scoped(Task, who).where(or_(Task.job_id.is_(None), Task.job_id.in_(visible_job_ids(who))))


def get_task_or_404(task_id: int, who=None) -> Task:
    """One task the staff principal may see, or 404."""
    row = db.session.scalar(tasks_query(who).where(Task.id == task_id))
    if row is None:
        abort(404)
    return row


def activities_query(who=None) -> Select:
    """Timeline entries the staff principal may see: the agency's, except those about hidden jobs."""
    who = _staff(who)
    return scoped(Activity, who).where(or_(Activity.job_id.is_(None), Activity.job_id.in_(visible_job_ids(who))))


def get_own_alert_or_404(alert_id: int, who=None) -> Alert:
    """One of the signed-in user's own alerts (never a colleague's), or 404."""
    who = _staff(who)
    row = db.session.scalar(select(Alert).where(Alert.id == alert_id, Alert.user_id == who.id))
    if row is None:
        abort(404)
    return row


def colleagues(who=None) -> list[User]:
    """The active users of the staff principal's agency, by name (owners, teams, assignees)."""
    who = _staff(who)
    return list(db.session.scalars(scoped(User, who).where(User.active.is_(True)).order_by(User.name)))
