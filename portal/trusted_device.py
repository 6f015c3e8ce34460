"""The device cookie of staff sign-in: a browser that signed in to an address before is
recognised, so the per-address back-off (portal/services/login_throttle.py) that strangers can
trigger does not keep the owner out. Signed with the app secret; it names the address by a hash
and the browser by a random id, and carries no session."""

import hashlib
import secrets

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "portal_device"
MAX_AGE = 180 * 24 * 3600


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="trusted-device")


def _address(email: str) -> str:
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()[:32]


def device_for(email: str) -> str | None:
    """This browser's device id, when it signed in to ``email`` before."""
    try:
        payload = _serializer().loads(request.cookies.get(COOKIE, ""))
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("a") != _address(email):
        return None
    device = payload.get("d")
    return device if isinstance(device, str) else None


def remember(response: Response, email: str) -> Response:
    """After a correct password: mark this browser as one that signs in to ``email``."""
    value = _serializer().dumps({"a": _address(email), "d": device_for(email) or secrets.token_urlsafe(16)})
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE,
        path="/login",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response
