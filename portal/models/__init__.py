"""All models, importable from ``portal.models``."""

from .agency import Agency, ClientCompany, EmailTemplate, ProfileTemplate, Reason, StageDefinition
from .applications import (
    Application,
    Comment,
    Interview,
    InterviewRequest,
    ProposedSlot,
    Rating,
    Scorecard,
    SharedProfile,
    StageHistory,
)
from .auth import LoginThrottle, PasswordResetRequest, RecoveryCode, SignInRequest
from .base import as_utc, utcnow
from .decisions import AgencyHoliday, ScheduledMark, SurveyAnswer
from .jobs import Job, job_team
from .notes import Note
from .outbox import CandidateSearchFacts, CandidateSearchText, EndedSession, LoginToken, MailOutbox, SearchOutbox
from .people import (
    Candidate,
    CandidateEmail,
    CandidateTag,
    ClientContact,
    ConsentRecord,
    Resume,
    User,
    VideoResume,
)
from .privacy import AUDIT_ACTIONS, VIEW_KINDS, AuditEntry, ProfileView, SuppressedEmail
from .searches import SavedSearch
from .security import SECURITY_EVENT_KINDS, SecurityEvent
from .tasks import Activity, Alert, Task, TaskChecklistItem, TaskComment

__all__ = [
    "AUDIT_ACTIONS",
    "SECURITY_EVENT_KINDS",
    "VIEW_KINDS",
    "Activity",
    "Agency",
    "AgencyHoliday",
    "Alert",
    "Application",
    "AuditEntry",
    "Candidate",
    "CandidateEmail",
    "CandidateSearchFacts",
    "CandidateSearchText",
    "CandidateTag",
    "ClientCompany",
    "ClientContact",
    "Comment",
    "ConsentRecord",
    "EmailTemplate",
    "EndedSession",
    "Interview",
    "InterviewRequest",
    "Job",
    "LoginThrottle",
    "LoginToken",
    "MailOutbox",
    "Note",
    "PasswordResetRequest",
    "ProfileTemplate",
    "ProfileView",
    "ProposedSlot",
    "Rating",
    "Reason",
    "RecoveryCode",
    "Resume",
    "SavedSearch",
    "ScheduledMark",
    "Scorecard",
    "SearchOutbox",
    "SecurityEvent",
    "SharedProfile",
    "SignInRequest",
    "StageDefinition",
    "StageHistory",
    "SuppressedEmail",
    "SurveyAnswer",
    "Task",
    "TaskChecklistItem",
    "TaskComment",
    "User",
    "VideoResume",
    "as_utc",
    "job_team",
    "utcnow",
]
