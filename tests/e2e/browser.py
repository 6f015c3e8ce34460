"""Browser helpers: axe-core checks, CSP-violation capture, signing in, links from mail."""

import io
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect

from tests.factories import PASSWORD

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
URL_IN_TEXT = re.compile(r"https?://\S+")


def assert_accessible(page, name: str) -> None:
    """Run axe-core on the page; fail on serious or critical violations, listing them."""
    # Evaluated through the DevTools protocol, so the page's strict CSP needs no exception.
    page.evaluate(AXE.read_text())
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    details = "\n".join(f"{v['id']} ({v['impact']}): {v['help']} → {[n['target'] for n in v['nodes']]}" for v in bad)
    assert not bad, f"axe-core found serious/critical violations on {name}:\n{details}"


def watch_csp(page) -> list[str]:
    """Collect console errors about Content-Security-Policy violations."""
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: (
            violations.append(msg.text) if msg.type == "error" and "Content Security Policy" in msg.text else None
        ),
    )
    return violations


def link_from_mail(message) -> str:
    """The first URL in a received message's plain-text part."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    match = URL_IN_TEXT.search(text)
    assert match, f"no link in mail:\n{text}"
    return match.group(0)


def wait_for_htmx(page) -> None:
    """Wait until htmx has finished swapping and settling, so controls in new content are live.

    A test acts within milliseconds of a swap, before htmx has wired the new elements up; a
    person never does. Readiness polling, not a timing assertion.
    """
    page.wait_for_function(
        "() => window.htmx && !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def sign_in(page, base_url: str, email: str) -> None:
    """Sign a staff user in through the login form; they land on the jobs list."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jobs")


def shows_a_white_page(page) -> bool:
    """Whether the middle of the viewport is white: Chromium's PDF viewer drew a page."""
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    return image.getpixel((image.width // 2, image.height // 3)) == (255, 255, 255)
