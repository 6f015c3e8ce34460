"""Forms for a candidate's files (kept apart from ``forms.py``: that module is near its size limit)."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import Length, Optional


class ResumeUploadForm(FlaskForm):
    """One resume file; its type and size are judged by the service from the bytes."""

    resume = FileField("Resume", description="PDF or Word (.docx), at most 10 MB.")


class VideoResumeForm(FlaskForm):
    """A link to a video resume; the service checks it is https."""

    video_url = StringField(
        "Video resume link", description="The https:// address of the video (YouTube, Vimeo, Loom …)."
    )
    video_title = StringField("Title (optional)", validators=[Optional(), Length(max=200)])
