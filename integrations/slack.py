"""Slack: a team's incoming-webhook URL gets a one-line notice each time its agents are told about a case.

Posts over HTTP in a task (`integrations.tasks.post_to_slack`), after the case's transaction commits.
"""

import json
import logging

from integrations.outbound import AddressRefused, outbound_post

logger = logging.getLogger(__name__)


def slack_text(*, headline: str, case_id: int, score: int, url: str) -> str:
    return f"{headline}: case #{case_id} (score {score}) {url}"


def slack_post(*, webhook_url: str, text: str) -> None:
    """POST `{"text": ...}` through the webhooks' guard (integrations/outbound.py): public addresses only,
    no redirect, a deadline; an OSError or requests error (unreachable, HTTP error) is for the task."""
    try:
        outbound_post(webhook_url, json.dumps({"text": text}).encode(), {"Content-Type": "application/json"})
    except AddressRefused:
        logger.warning("Slack webhook of a team refused: its address is not public")
