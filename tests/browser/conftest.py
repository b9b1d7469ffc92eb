"""Real-browser fixtures: Playwright driving Debian's headless chromium against pytest-django's live server.

Tests here are marked `browser` and skipped, with the reason printed, when chromium or axe-core
(`npm ci`) is missing, so a bare `make test` passes; `.ci/run` installs both.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# WCAG 2.2 AA, as axe-core tags it.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _missing() -> str:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    if not AXE.exists():
        return f"{AXE} not found (npm ci)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return ""


def pytest_collection_modifyitems(config, items):
    missing = _missing()
    if not missing:
        return
    skip = pytest.mark.skip(reason=f"browser: {missing}")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    missing = _missing()
    if missing:
        terminalreporter.write_line(f"browser tests were skipped: {missing}", yellow=True)


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made from the
    # test body would otherwise refuse to run next to it.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    if before is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def browser_page(chromium, live_server):
    """A phone-sized page (320 px wide) with JavaScript; `browser_page.context` can be reopened without it."""
    context = chromium.new_context(viewport={"width": 320, "height": 640}, base_url=live_server.url)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def no_js_page(chromium, live_server):
    context = chromium.new_context(
        viewport={"width": 320, "height": 640}, base_url=live_server.url, java_script_enabled=False
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def axe_violations():
    """axe-core's WCAG 2.2 AA violations on a page as it stands, each as its rule id and failing nodes."""

    def run(page) -> list[dict]:
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
        return [
            {"id": violation["id"], "nodes": [node["html"] for node in violation["nodes"]]}
            for violation in result["violations"]
        ]

    return run
