"""Branding rules without HTTP (B1): logo checks and re-encoding, WCAG contrast, welcome text, saving."""

import io

import pytest
from PIL import Image
from sqlalchemy import select

from portal.extensions import db
from portal.models import Activity
from portal.services import ServiceError, branding
from portal.unit_of_work import unit_of_work
from tests.admin.conftest import image_bytes, jpeg_with_exif, png_claiming, reload_agency

SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<rect width="10" height="10"/></svg>'
)
SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.cookie)</script>'
    b'<rect width="10" height="10"/></svg>'
)
PHP_PAYLOAD = b"<?php system($_GET['cmd']); ?>"

VALID = {
    "primary_color": "#0f5132",
    "accent_color": "#9a3412",
    "portal_title": "Northwind clients",
    "welcome_text": "Hello **clients**",
    "email_sender_name": "Northwind Talent",
    "email_footer": "Northwind · 1 Demo Street",
}


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_valid_logos_are_accepted_and_reencoded_as_png(fmt):
    original = image_bytes(fmt)
    stored = branding.process_logo(original, f"logo.{fmt.lower()}")
    assert stored != original
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "PNG"
        assert image.size == (40, 20)


def test_reencoding_strips_exif():
    original = jpeg_with_exif()
    assert b"SecretCam" in original
    stored = branding.process_logo(original, "photo.jpg")
    assert b"SecretCam" not in stored and b"51.5007N" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif()


def test_large_dimensions_are_scaled_down_to_the_bound():
    stored = branding.process_logo(image_bytes("PNG", size=(3000, 600)), "wide.png")
    with Image.open(io.BytesIO(stored)) as image:
        assert image.width <= branding.LOGO_MAX_SIZE[0] and image.height <= branding.LOGO_MAX_SIZE[1]
        assert image.size == (800, 160)


def test_php_payload_appended_to_a_png_is_dropped_by_reencoding():
    polyglot = image_bytes("PNG") + PHP_PAYLOAD
    stored = branding.process_logo(polyglot, "logo.png")
    assert PHP_PAYLOAD not in stored and b"<?php" not in stored


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (SVG, "logo.svg", "SVG logos are not accepted"),
        (SVG_WITH_SCRIPT, "logo.png", "SVG logos are not accepted"),
        (b"\n  " + SVG_WITH_SCRIPT, "innocent.webp", "SVG logos are not accepted"),
        (b"\0" * (20 * 1024 * 1024), "huge.png", "the limit is 2 MB"),
        (b"\0" * (branding.LOGO_MAX_BYTES + 1), "big.png", "the limit is 2 MB"),
        (image_bytes("PNG", size=(200, 200))[:-300], "truncated.png", "damaged or incomplete"),
        (image_bytes("JPEG", size=(200, 200))[:400], "truncated.jpg", "damaged or incomplete"),
        (png_claiming(6_000, 6_000), "bomb.png", "upload one under 5000 × 5000 pixels"),
        (png_claiming(10_000, 10_000), "bomb.png", "upload one under 5000 × 5000 pixels"),
        (png_claiming(50_000, 50_000), "bomb.png", "upload one under 5000 × 5000 pixels"),
        (image_bytes("GIF"), "anim.gif", "not a PNG, JPEG or WebP image"),
        (b"%PDF-1.7 not an image", "logo.pdf", "not a PNG, JPEG or WebP image"),
        (image_bytes("PNG"), "../../static/logo.png", "must not contain folders or path separators"),
        (image_bytes("PNG"), "..\\logo.png", "must not contain folders or path separators"),
        (b"", "empty.png", "Choose an image file"),
    ],
)
def test_refused_logos_name_the_problem(data, filename, message):
    with pytest.raises(ServiceError) as refused:
        branding.process_logo(data, filename)
    assert message in refused.value.message
    assert refused.value.field == "logo"


@pytest.mark.parametrize(
    "foreground, background, expected",
    [
        ("#000000", "#ffffff", 21.0),
        ("#ffffff", "#ffffff", 1.0),
        ("#777777", "#ffffff", 4.48),
        ("#767676", "#ffffff", 4.54),
        ("#ffffff", "#0000ff", 8.59),
        ("#ff0000", "#ffffff", 4.0),
    ],
)
def test_contrast_ratio_matches_published_wcag_values(foreground, background, expected):
    assert round(branding.contrast_ratio(foreground, background), 2) == expected


@pytest.mark.parametrize(
    "primary, accent, field, message",
    [
        (
            "#777777",
            "#9a3412",
            "primary_color",
            "White text on the primary colour #777777 has a contrast ratio of 4.48:1; WCAG AA needs at least 4.5:1",
        ),
        (
            "#0f5132",
            "#ff0000",
            "accent_color",
            "White text on the accent colour #ff0000 has a contrast ratio of 4.00:1",
        ),
        ("#ffff00", "#9a3412", "primary_color", "contrast ratio of 1.07:1"),
        ("blue", "#9a3412", "primary_color", "The primary colour must be a hex colour such as #1d4ed8 (not “blue”)"),
        ("#0f5132", "#12345", "accent_color", "The accent colour must be a hex colour"),
        ("#0f5132", "#9a3412;}body{display:none", "accent_color", "The accent colour must be a hex colour"),
        ("", "#9a3412", "primary_color", "The primary colour must be a hex colour"),
    ],
)
def test_colours_below_aa_or_malformed_are_refused_with_the_ratio(primary, accent, field, message):
    with pytest.raises(ServiceError) as refused:
        branding.check_brand_colours(primary, accent)
    assert message in refused.value.message
    assert refused.value.field == field


def test_passing_colours_are_normalised():
    assert branding.check_brand_colours("#767676", "A34") == ("#767676", "#aa3344")


@pytest.mark.parametrize(
    "text, present, absent",
    [
        ("Hello **clients**", "<strong>clients</strong>", "**"),
        ("[Our site](https://example.com)", '<a href="https://example.com">Our site</a>', ""),
        ("[x](javascript:alert(1))", "x", "javascript:"),
        ("<script>alert(1)</script> hi", "&lt;script&gt;", "<script>"),
        ('<img src=x onerror="alert(1)">', "&lt;img", "<img"),
        ("- one\n- two", "<li>one</li>", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>x"),
    ],
)
def test_welcome_text_is_markdown_sanitised(text, present, absent):
    html = str(branding.render_welcome(text))
    assert present in html
    if absent:
        assert absent not in html


def test_preview_css_only_carries_validated_colours():
    css = branding.preview_css("#0f5132", "red;}body{background:url(//evil)}")
    assert "--brand-primary:#0f5132;" in css
    assert "evil" not in css and "--brand-accent:#b45309;" in css


def test_save_bumps_the_version_stores_the_logo_and_records_who(ctx, tenant):
    agency, admin = tenant.agency, tenant.admin
    version = agency.branding_version
    with unit_of_work():
        branding.save_branding(agency, VALID, admin, logo=image_bytes("WEBP"), logo_filename="logo.webp")
    stored = reload_agency(agency.id)
    assert stored.branding_version == version + 1
    assert (stored.primary_color, stored.portal_title) == ("#0f5132", "Northwind clients")
    assert stored.logo_content_type == "image/png" and stored.logo_png.startswith(b"\x89PNG")
    entry = db.session.scalar(select(Activity).where(Activity.verb == "admin.branding"))
    assert entry.actor_user_id == admin.id
    assert "logo" in entry.detail["changed"] and "primary_color" in entry.detail["changed"]


@pytest.mark.parametrize(
    "values, logo, message",
    [
        ({**VALID, "primary_color": "#777777"}, None, "4.48:1"),
        (VALID, SVG_WITH_SCRIPT, "SVG logos are not accepted"),
        ({**VALID, "email_sender_name": "Evil\r\nBcc: all@example.com"}, None, "must be a single line"),
    ],
)
def test_a_refused_save_stores_nothing(ctx, tenant, values, logo, message):
    agency = tenant.agency
    before = (agency.primary_color, agency.branding_version, agency.email_sender_name)
    with pytest.raises(ServiceError) as refused:
        branding.save_branding(agency, values, tenant.admin, logo=logo, logo_filename="logo.png")
    assert message in refused.value.message
    db.session.rollback()
    stored = reload_agency(agency.id)
    assert (stored.primary_color, stored.branding_version, stored.email_sender_name) == before
    assert stored.logo_png is None
    assert db.session.scalar(select(Activity).where(Activity.verb == "admin.branding")) is None


def test_preview_draft_shows_refused_values_as_typed_with_the_reason(ctx, tenant):
    draft, error = branding.preview_draft(tenant.agency, {**VALID, "primary_color": "#1D4ED8"})
    assert (draft.primary_color, draft.title, error) == ("#1d4ed8", "Northwind clients", None)
    draft, error = branding.preview_draft(tenant.agency, {**VALID, "primary_color": "#777777"})
    assert (draft.primary_color, draft.title) == ("#777777", "Northwind clients")
    assert error.startswith("White text on the primary colour #777777 has a contrast ratio of 4.48:1")
    assert reload_agency(tenant.agency.id).portal_title is None
