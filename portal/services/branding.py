"""Agency branding (B1): logo checks and re-encoding, colour contrast, welcome text, saving.

Every logo is decoded and re-encoded by Pillow, so what the portal stores and serves is a PNG
the server wrote itself: metadata (EXIF), trailing bytes and anything smuggled after the image
data are gone, and the content type is always the server's choice. Saving goes into the caller's
unit of work.
"""

import base64
import io
import re
import warnings
from dataclasses import dataclass

import bleach
import markdown
from markupsafe import Markup, escape
from PIL import Image, UnidentifiedImageError

from ..models import Agency, User
from . import ServiceError
from .activity import record

LOGO_MAX_BYTES = 2 * 1024 * 1024
# Logos are shown at most 180 x 48 CSS pixels; this leaves room for 4x screens.
LOGO_MAX_SIZE = (800, 400)
# Decoding is refused above this many pixels: a small file must not expand into gigabytes.
LOGO_MAX_PIXELS = 25_000_000
LOGO_FORMATS = ("PNG", "JPEG", "WEBP")
LOGO_CONTENT_TYPE = "image/png"

WCAG_AA_NORMAL_TEXT = 4.5
WHITE = "#ffffff"
PAGE_TEXT = "#1f2933"  # --text in portal.css: the text colour of every page
PAGE_BACKGROUND = "#f4f5f7"  # --background in portal.css

HEX_COLOUR = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")

WELCOME_TAGS = ["p", "br", "strong", "em", "a", "ul", "ol", "li", "code", "blockquote"]
WELCOME_ATTRIBUTES = {"a": ["href", "title"]}
WELCOME_PROTOCOLS = ["http", "https", "mailto"]
WELCOME_MAX_CHARS = 2000


def _refuse_logo(message: str, field: str = "logo") -> ServiceError:
    return ServiceError(message, field=field)


def process_logo(data: bytes, filename: str | None, field: str = "logo") -> bytes:
    """Check an uploaded logo and return it re-encoded as PNG, or raise ServiceError.

    Accepts PNG, JPEG and WebP up to 2 MB. SVG is refused (it can carry script), and so is
    anything Pillow cannot fully decode (truncated files) or that claims more than
    ``LOGO_MAX_PIXELS`` pixels (decompression bombs). Large images are scaled down to fit
    ``LOGO_MAX_SIZE``.
    """
    name = filename or ""
    if "/" in name or "\\" in name or "\x00" in name or name in (".", ".."):
        raise _refuse_logo(
            "The file name must not contain folders or path separators "
            "(“/” or “\\”); rename the file and upload it again.",
            field,
        )
    if not data:
        raise _refuse_logo("Choose an image file to upload.", field)
    if len(data) > LOGO_MAX_BYTES:
        raise _refuse_logo(
            f"The logo is {len(data) / 1024 / 1024:.1f} MB; the limit is 2 MB. "
            "Upload a smaller PNG, JPEG or WebP file.",
            field,
        )
    head = data[:1024].lstrip().lower()
    if (
        name.lower().endswith((".svg", ".svgz"))
        or head.startswith((b"<?xml", b"<svg", b"<!doctype svg"))
        or b"<svg" in head
    ):
        raise _refuse_logo(
            "SVG logos are not accepted (they can contain scripts). Upload a PNG, JPEG or WebP image instead.", field
        )
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its own limit; a warning here is a bomb too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=LOGO_FORMATS)
            width, height = image.size
            if width * height > LOGO_MAX_PIXELS:
                raise _refuse_logo(
                    f"The image claims {width} × {height} pixels, far more than a logo "
                    "needs; upload one under 5000 × 5000 pixels.",
                    field,
                )
            image.load()
    except ServiceError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse_logo(
            "The image is far larger once decoded than a logo can be; upload one under 5000 × 5000 pixels.", field
        ) from None
    except UnidentifiedImageError:
        raise _refuse_logo(
            "That file is not a PNG, JPEG or WebP image. Upload the logo in one of those formats.", field
        ) from None
    except (OSError, SyntaxError, ValueError):
        raise _refuse_logo(
            "The image file is damaged or incomplete and cannot be read; export it again and upload the new file.",
            field,
        ) from None
    return _reencode(image)


def _reencode(image: Image.Image) -> bytes:
    """A fresh PNG from the decoded pixels only: no metadata, no trailing bytes."""
    mode = "RGBA" if image.mode in ("RGBA", "LA", "P", "PA") or "transparency" in image.info else "RGB"
    clean = image.convert(mode)
    clean.thumbnail(LOGO_MAX_SIZE)
    out = io.BytesIO()
    clean.save(out, "PNG", optimize=True)
    return out.getvalue()


def logo_data_uri(logo_png: bytes | None) -> str | None:
    """A ``data:`` URI for a stored (re-encoded) logo; the CSP allows ``img-src data:``."""
    if not logo_png:
        return None
    return "data:image/png;base64," + base64.b64encode(logo_png).decode()


def normalise_colour(value: str | None, label: str, field: str) -> str:
    """``#rrggbb`` in lower case from ``#rgb`` / ``#rrggbb`` (hash optional), or ServiceError."""
    match = HEX_COLOUR.fullmatch((value or "").strip())
    if not match:
        raise ServiceError(f"The {label} must be a hex colour such as #1d4ed8 (not “{value or ''}”).", field=field)
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a ``#rrggbb`` colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio between two ``#rrggbb`` colours (1 to 21)."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def check_contrast(foreground: str, background: str, what: str, field: str) -> None:
    """Refuse a pair below WCAG AA for normal text, naming the measured ratio."""
    ratio = contrast_ratio(foreground, background)
    # Compare the unrounded value: 4.48 must never pass because it rounds to 4.5.
    if ratio < WCAG_AA_NORMAL_TEXT:
        raise ServiceError(
            f"{what} has a contrast ratio of {ratio:.2f}:1; WCAG AA needs at least "
            f"{WCAG_AA_NORMAL_TEXT}:1 for normal text. Choose a darker colour.",
            field=field,
        )


def check_brand_colours(primary: str | None, accent: str | None) -> tuple[str, str]:
    """Validate both colours as the portal uses them; return them normalised.

    Buttons carry white text on the primary colour and badges white text on the accent; links
    use the primary colour on white cards, the same ratio as white on primary. The dark page
    text on the page background is checked too, so a later change to those constants cannot
    slip below AA.
    """
    primary = normalise_colour(primary, "primary colour", "primary_color")
    accent = normalise_colour(accent, "accent colour", "accent_color")
    check_contrast(WHITE, primary, f"White text on the primary colour {primary}", "primary_color")
    check_contrast(WHITE, accent, f"White text on the accent colour {accent}", "accent_color")
    check_contrast(PAGE_TEXT, PAGE_BACKGROUND, "The page text", "primary_color")
    return primary, accent


def render_welcome(text: str | None) -> Markup:
    """Welcome text as sanitised HTML: Markdown rendered, then only a few harmless tags kept."""
    if not text:
        return Markup("")
    html = markdown.markdown(str(escape(text)) if "<" in text else text, output_format="html")
    cleaned = bleach.clean(
        html, tags=WELCOME_TAGS, attributes=WELCOME_ATTRIBUTES, protocols=WELCOME_PROTOCOLS, strip=True
    )
    return Markup(cleaned)


@dataclass
class BrandingDraft:
    """Validated branding values, not yet saved (also what the live preview renders)."""

    name: str
    portal_title: str | None
    welcome_text: str | None
    primary_color: str
    accent_color: str
    email_sender_name: str | None
    email_footer: str | None
    slug: str = ""
    logo_content_type: str | None = None
    branding_version: int = 0

    @property
    def title(self) -> str:
        """Same rule as ``Agency.title``."""
        return self.portal_title or self.name


def _optional(value: str | None, limit: int, label: str, field: str, single_line: bool = False) -> str | None:
    value = (value or "").strip()
    if len(value) > limit:
        raise ServiceError(f"The {label} is {len(value)} characters long; the limit is {limit}.", field=field)
    if single_line and ("\r" in value or "\n" in value):
        raise ServiceError(f"The {label} must be a single line.", field=field)
    return value or None


def validate_branding(agency: Agency, values: dict) -> BrandingDraft:
    """Check submitted branding values (form field names as keys); raise ServiceError on the first fault."""
    primary, accent = check_brand_colours(values.get("primary_color"), values.get("accent_color"))
    return BrandingDraft(
        name=agency.name,
        slug=agency.slug,
        portal_title=_optional(values.get("portal_title"), 200, "portal title", "portal_title", True),
        welcome_text=_optional(values.get("welcome_text"), WELCOME_MAX_CHARS, "welcome text", "welcome_text"),
        primary_color=primary,
        accent_color=accent,
        email_sender_name=_optional(
            values.get("email_sender_name"), 200, "email sender name", "email_sender_name", True
        ),
        email_footer=_optional(values.get("email_footer"), 1000, "email footer", "email_footer"),
        logo_content_type=agency.logo_content_type,
        branding_version=agency.branding_version,
    )


def preview_draft(agency: Agency, values: dict) -> tuple[BrandingDraft, str | None]:
    """What the live preview shows for unsaved values: the validated draft, or, while a value is
    refused, the values as typed together with the reason they cannot be saved yet."""
    try:
        return validate_branding(agency, values), None
    except ServiceError as refusal:
        as_typed = BrandingDraft(
            name=agency.name,
            slug=agency.slug,
            portal_title=values.get("portal_title") or None,
            welcome_text=values.get("welcome_text") or None,
            primary_color=values.get("primary_color") or "",
            accent_color=values.get("accent_color") or "",
            email_sender_name=values.get("email_sender_name"),
            email_footer=values.get("email_footer"),
            logo_content_type=agency.logo_content_type,
            branding_version=agency.branding_version,
        )
        return as_typed, refusal.message


BRANDING_FIELDS = ("portal_title", "welcome_text", "primary_color", "accent_color", "email_sender_name", "email_footer")


def save_branding(
    agency: Agency,
    values: dict,
    actor: User,
    logo: bytes | None = None,
    logo_filename: str | None = None,
    remove_logo: bool = False,
) -> Agency:
    """Validate and save branding (and an optional new logo); bump the version.

    Nothing is changed when any part is refused. The timeline records which fields changed.
    """
    draft = validate_branding(agency, values)
    new_logo = process_logo(logo, logo_filename) if logo is not None else None
    changed = [name for name in BRANDING_FIELDS if getattr(agency, name) != getattr(draft, name)]
    for name in BRANDING_FIELDS:
        setattr(agency, name, getattr(draft, name))
    if new_logo is not None:
        agency.logo_png, agency.logo_content_type = new_logo, LOGO_CONTENT_TYPE
        changed.append("logo")
    elif remove_logo and agency.logo_content_type:
        agency.logo_png, agency.logo_content_type = None, None
        changed.append("logo removed")
    agency.branding_version = (agency.branding_version or 1) + 1
    record(
        agency.id,
        "admin.branding",
        f"{actor.name} changed the branding" + (f" ({', '.join(changed)})" if changed else ""),
        actor=actor,
        changed=changed,
    )
    return agency


def preview_css(primary: str | None, accent: str | None) -> str:
    """CSS for the live preview: only validated colours reach the stylesheet (else defaults)."""

    def safe(value, default):
        try:
            return normalise_colour(value, "colour", "colour")
        except ServiceError:
            return default

    return f".brand-preview{{--brand-primary:{safe(primary, '#1d4ed8')};--brand-accent:{safe(accent, '#b45309')};}}\n"
