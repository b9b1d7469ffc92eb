"""Slack: a team's channel gets a one-line notice each time its agents are told about a case.

Two ways in, whichever the workspace set up: a Slack app's bot token (`SLACK_BOT_TOKEN`) lets a team pick a
channel from Slack's own list (`conversations.list`) and posts with `chat.postMessage`; without one, a team's
incoming-webhook URL posts to the one channel the webhook was made for (nothing to list). Every call goes
through the webhooks' guard (integrations/outbound.py). Notices are posted in a task
(`integrations.tasks.post_to_slack`, `post_to_slack_channel`), after the case's transaction commits.
"""

import json
import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings

from integrations.outbound import AddressRefused, outbound_post

logger = logging.getLogger(__name__)
# Slack's page size cap is 1000; it advises 200 or fewer. A workspace has rarely more than a few thousand channels.
PAGE_SIZE = 200
MAX_PAGES = 50


class SlackError(Exception):
    """Slack answered with an error (`ok: false`, an HTTP error) or could not be reached; the message says which."""


@dataclass(frozen=True)
class SlackChannel:
    id: str
    name: str
    is_private: bool


def slack_uses_bot() -> bool:
    """Whether the workspace set a bot token: teams pick channels, notices go through chat.postMessage."""
    return bool(settings.SLACK_BOT_TOKEN)


def slack_text(*, headline: str, case_id: int, score: int, url: str) -> str:
    return f"{headline}: case #{case_id} (score {score}) {url}"


def slack_post(*, webhook_url: str, text: str) -> None:
    """POST `{"text": ...}` through the webhooks' guard (integrations/outbound.py): public addresses only,
    no redirect, a deadline; an OSError or requests error (unreachable, HTTP error) is for the task."""
    try:
        outbound_post(webhook_url, json.dumps({"text": text}).encode(), {"Content-Type": "application/json"})
    except AddressRefused:
        logger.warning("Slack webhook of a team refused: its address is not public")


def _call(method: str, body: bytes, content_type: str) -> dict:
    """One Web API call with the bot token; its JSON answer, or SlackError."""
    headers = {"Authorization": f"Bearer {settings.SLACK_BOT_TOKEN}", "Content-Type": content_type}
    try:
        response = outbound_post(f"{settings.SLACK_API_BASE_URL.rstrip('/')}/{method}", body, headers)
    except AddressRefused as exc:
        raise SlackError(f"SLACK_API_BASE_URL is refused: {exc}") from exc
    if response.status_code == 429:
        raise SlackError("Slack asks to slow down (rate limited); try again in a minute.")
    try:
        answer = json.loads(response.body)
    except ValueError as exc:
        raise SlackError(f"Slack answered HTTP {response.status_code} without JSON.") from exc
    if response.status_code != 200 or not isinstance(answer, dict) or not answer.get("ok"):
        error = answer.get("error", f"HTTP {response.status_code}") if isinstance(answer, dict) else "no answer"
        raise SlackError(f"Slack refused {method}: {error}.")
    return answer


def slack_channels() -> list[SlackChannel]:
    """The workspace's channels the bot can see (public, and private ones it was invited to), not archived, by
    name: every page of `conversations.list`, following `response_metadata.next_cursor`. SlackError on any
    failure, the network's included: a page must say why there is no list."""
    channels: list[SlackChannel] = []
    cursor = ""
    for _ in range(MAX_PAGES):
        form = {"types": "public_channel,private_channel", "exclude_archived": "true", "limit": PAGE_SIZE}
        if cursor:
            form["cursor"] = cursor
        try:
            answer = _call("conversations.list", urlencode(form).encode(), "application/x-www-form-urlencoded")
        except OSError as exc:  # unreachable or past the deadline (requests' errors are OSErrors too)
            raise SlackError(f"Slack could not be reached: {exc}") from exc
        for channel in answer.get("channels") or []:
            channels.append(SlackChannel(str(channel["id"]), str(channel["name"]), bool(channel.get("is_private"))))
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") or ""
        if not cursor:
            break
    return sorted(channels, key=lambda channel: (channel.name, channel.id))


def slack_post_to_channel(*, channel_id: str, text: str) -> None:
    """`chat.postMessage` to a team's channel with the bot token. Slack's refusal (the bot left the channel, the
    token was revoked) is logged, not retried; an OSError or requests error is for the task to retry."""
    body = json.dumps({"channel": channel_id, "text": text}).encode()
    try:
        _call("chat.postMessage", body, "application/json; charset=utf-8")
    except SlackError as exc:
        logger.warning("Slack notice to channel %s not posted: %s", channel_id, exc)
