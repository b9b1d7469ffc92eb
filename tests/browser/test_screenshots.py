"""The pictures of the README and docs/ (docs/img/*.png), taken from the demo workspace a first
`make run` loads, so they show the product as it is.

The clock is frozen and the database's ids start from 1, so an unchanged page gives the same
pixels and git sees no change; after changing one of these pages, commit the PNGs this writes.
Each test also checks what its picture must show, so a broken page never becomes a picture.
"""

import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from surveys.models import Contact, PublishableKey, Survey
from surveys.tokens import invitation_token
from tests.factories import InvitationFactory
from workspace.demo import DEMO_LOGINS, DEMO_WIDGET_KEY, demo_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, reset_sequences=True)]

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
NOW = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)  # a Monday morning: the demo's cases are due this week
MANAGER, AGENT = ((email, password) for email, password, _role in DEMO_LOGINS)


@pytest.fixture
def demo():
    with time_machine.travel(NOW, tick=False):
        demo_load()
        yield


def _page(chromium, live_server, width: int, height: int):
    context = chromium.new_context(viewport={"width": width, "height": height}, base_url=live_server.url)
    return context, context.new_page()


def _log_in(page, login: tuple[str, str], next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.get_by_label("Email").fill(login[0])
    page.get_by_label("Password").fill(login[1])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{next_url}")


def _save(page, name: str, width: int) -> tuple[int, int]:
    """Saves the viewport as docs/img/<name>.png and returns the PNG's width and height, read back from the file."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways"
    path = IMG / f"{name}.png"
    IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_screenshot_respondent_page_at_360px(chromium, live_server, demo):
    with time_machine.travel(NOW, tick=False):
        survey = Survey.objects.get(name="Purchase NPS")
        invitation = InvitationFactory(
            survey=survey, contact=Contact.objects.exclude(email="").order_by("pk").first(), locale="en"
        )
        context, page = _page(chromium, live_server, 360, 640)
        page.goto(f"/s/{invitation_token(invitation.public_id)}/")

        assert page.get_by_role("heading").first.inner_text() == (
            "How likely are you to recommend Acme Store to a friend or colleague?"
        )
        assert page.get_by_role("radio").count() == 11
        assert _save(page, "respondent", 360) == (360, 640)
        context.close()


def test_screenshot_web_widget_in_a_product_page_at_1024px(chromium, live_server, demo, host_site):
    with time_machine.travel(NOW, tick=False):
        # The demo key allows the usual local ports; this host page runs on a free one.
        PublishableKey.objects.filter(key=DEMO_WIDGET_KEY).update(allowed_origins=[host_site.origin])
        url = host_site.page(
            "/app",
            f"{live_server.url}/web/snippet.js",
            DEMO_WIDGET_KEY,
            'closeloop.survey({email: "alice@example.com", name: "Alice"})',
        )
        context = chromium.new_context(viewport={"width": 1024, "height": 640})
        page = context.new_page()
        page.goto(url)

        page.get_by_role("button", name="10: Extremely likely").wait_for()
        assert page.locator("legend").inner_text() == (
            "How likely are you to recommend Acme Store to a friend or colleague?"
        )
        assert _save(page, "web-widget", 1024) == (1024, 640)
        context.close()


def test_screenshot_agent_inbox_at_1024px(chromium, live_server, demo):
    with time_machine.travel(NOW, tick=False):
        context, page = _page(chromium, live_server, 1024, 640)
        _log_in(page, AGENT, "/follow-ups/")

        assert page.locator("li.case").count() > 3
        assert _save(page, "inbox", 1024) == (1024, 640)
        context.close()


def test_screenshot_manager_dashboard_at_1024px(chromium, live_server, demo):
    with time_machine.travel(NOW, tick=False):
        context, page = _page(chromium, live_server, 1024, 768)
        _log_in(page, MANAGER, "/dashboard/")

        assert page.get_by_role("heading", level=1).inner_text() == "Dashboard"
        assert _save(page, "dashboard", 1024) == (1024, 768)
        context.close()
