"""Real-browser fixtures: Playwright driving Debian's headless chromium against pytest-django's live server.

Tests here are marked `browser` and skipped, with the reason printed, when chromium or axe-core
(`npm ci`) is missing, so a bare `make test` passes; `.ci/run` installs both.
"""

import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


class _RequestsInFlight:
    """How many requests this process is serving, the live server's among them: from Django's request_started to
    its request_finished (sent once the response is closed, after the commit hooks that ran inside it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def started(self, **kwargs) -> None:
        with self._lock:
            self.count += 1

    def finished(self, **kwargs) -> None:
        with self._lock:
            self.count -= 1


@pytest.fixture(scope="session")
def _requests_in_flight():
    from django.core.signals import request_finished, request_started

    in_flight = _RequestsInFlight()
    request_started.connect(in_flight.started, dispatch_uid="browser-requests-in-flight")
    request_finished.connect(in_flight.finished, dispatch_uid="browser-requests-in-flight")
    yield in_flight
    request_started.disconnect(dispatch_uid="browser-requests-in-flight")
    request_finished.disconnect(dispatch_uid="browser-requests-in-flight")


@pytest.fixture(autouse=True)
def _live_server_done_before_flush(transactional_db, live_server, _requests_in_flight):
    """Wait, after each test, until the live server has finished every request it was serving.

    A page closed at the end of a test can leave a request in flight (a beacon sent on unload, a
    navigation the test did not wait for), and a request goes on after its commit (an answer's
    announcement runs in its commit hook without a broker). The database flush that ends a test would
    deadlock with that request's transaction, or the request would find the database gone, so teardown
    (which runs before the flush, since this fixture needs the database) waits for it; it stops waiting
    after ten seconds.
    """
    yield
    for _ in range(200):
        if _requests_in_flight.count <= 0:
            return
        time.sleep(0.05)


@pytest.fixture
def browser_page(chromium, live_server):
    """A phone-sized page (320 px wide) with JavaScript; `browser_page.context` can be reopened without it."""
    context = chromium.new_context(viewport={"width": 320, "height": 640}, base_url=live_server.url)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def wide_page(chromium, live_server):
    """A 360 px wide phone, as the staff pages promise to work on."""
    context = chromium.new_context(viewport={"width": 360, "height": 740}, base_url=live_server.url)
    yield context.new_page()
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


class HostSite:
    """A tiny site of its own origin: each path answers the HTML put in `pages`."""

    def __init__(self):
        pages: dict[str, str] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = pages.get(self.path.split("?")[0], "<!doctype html><title>404</title>").encode()
                self.send_response(200 if self.path.split("?")[0] in pages else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.pages = pages
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page(self, path: str, snippet_url: str, key: str, call: str, head: str = "") -> str:
        self.pages[path] = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop app</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"{head}</head><body><main><h1>Your orders</h1>"
            '<button type="button" id="host-button" onclick="this.dataset.clicks=(+this.dataset.clicks||0)+1">'
            "Reorder</button></main>"
            f'<script src="{snippet_url}" data-key="{key}"></script><script>{call}</script></body></html>'
        )
        return self.origin + path

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def host_site():
    """A site of another origin than the live server's (another port of 127.0.0.1), for the web widget."""
    site = HostSite()
    yield site
    site.close()
