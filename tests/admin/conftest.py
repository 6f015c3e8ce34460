"""Fixtures for the admin tests: one agency (``make_tenant``) and images built with Pillow."""

import io
import struct
import zlib

import pytest
from PIL import Image

from portal.extensions import db
from portal.models import Agency
from tests.conftest import login_as
from tests.factories import make_tenant


@pytest.fixture
def tenant(app):
    """A complete agency; its rows stay usable inside the test's app context."""
    with app.app_context():
        yield make_tenant("admintest")


@pytest.fixture
def admin_client(app, tenant):
    """A test client signed in as the tenant's admin."""
    client = app.test_client()
    login_as(client, tenant.admin)
    return client


def image_bytes(fmt: str, size=(40, 20), colour="#0f5132", **save) -> bytes:
    """A real image file of ``fmt`` (PNG, JPEG, WEBP ...)."""
    buffer = io.BytesIO()
    mode = "RGBA" if fmt == "PNG" else "RGB"
    Image.new(mode, size, colour).save(buffer, fmt, **save)
    return buffer.getvalue()


def jpeg_with_exif() -> bytes:
    """A JPEG carrying EXIF (camera make and GPS-ish text) that re-encoding must drop."""
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x010E] = "taken at 51.5007N 0.1246W"  # ImageDescription
    return image_bytes("JPEG", size=(60, 30), exif=exif.tobytes())


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb's shape)."""
    data = bytearray(image_bytes("PNG", size=(1, 1)))
    # IHDR is the first chunk: 8-byte signature, 4-byte length, b"IHDR", then width and height.
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


def reload_agency(agency_id: int) -> Agency:
    """The agency as stored (a fresh read, not the session's copy)."""
    db.session.expire_all()
    return db.session.get(Agency, agency_id)
