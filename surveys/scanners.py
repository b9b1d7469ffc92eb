"""Telling a person's tap from a mail scanner's, from what a request shows (pure rules, no database).

What the evidence says scanners do (sources in docs/security.md):
- Microsoft Defender's Safe Attachments/Safe Links detonation opens every link of an email in a headless
  Chrome within about a minute of delivery, from Microsoft's networks, and runs the page's JavaScript
  (so our page's own auto-confirm posts); Safe Links' time-of-click check fetches a link milliseconds
  before the person does and has been seen replaying the page's POST about 35 s after the person
  (odoo/odoo#262262);
- Mimecast, Proofpoint (urldefense) and Barracuda rewrite links and fetch them at delivery or at click
  with their own or generic user agents, HEAD then GET, seldom running scripts;
- all of them come without the cookies of the person's browser.

So a page POST is judged *automatic* when its user agent is missing or names a headless browser, a
library or a scanner; when it takes part in a burst of different scores on one link; or when it is the
page's own auto-confirmation arriving within `SCANNER_DELIVERY_SECONDS` of the email leaving. An
automatic answer is kept but held (no case, no webhook, no rollup) until the same browser confirms it.
"""

import re

# Lower-cased substrings of user agents no person's browser sends.
SCANNER_USER_AGENT_MARKERS = (
    "headlesschrome",
    "headless",
    "phantomjs",
    "slimerjs",
    "puppeteer",
    "playwright",
    "selenium",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "httpx",
    "curl/",
    "wget/",
    "go-http-client",
    "java/",
    "okhttp",
    "apache-httpclient",
    "libwww",
    "node-fetch",
    "axios/",
    "ms-office",
    "microsoft office",
    "safelinks",
    "mimecast",
    "proofpoint",
    "urldefense",
    "barracuda",
    "crawler",
    "spider",
    "scanner",
)
_BOT_RE = re.compile(r"bot\b", re.IGNORECASE)

HEADLESS_OR_SCANNER = "scanner_user_agent"
NO_USER_AGENT = "no_user_agent"
BURST = "burst"
TOO_SOON = "too_soon_after_delivery"


def automatic_reason(
    *, user_agent: str, seconds_since_sent: float | None, auto_confirm: bool, in_burst: bool, delivery_seconds: float
) -> str:
    """Why a page POST looks automatic, or "" when it looks like a person's."""
    agent = (user_agent or "").strip().lower()
    if not agent:
        return NO_USER_AGENT
    if any(marker in agent for marker in SCANNER_USER_AGENT_MARKERS) or _BOT_RE.search(agent):
        return HEADLESS_OR_SCANNER
    if in_burst:
        return BURST
    if auto_confirm and seconds_since_sent is not None and 0 <= seconds_since_sent < delivery_seconds:
        return TOO_SOON
    return ""
