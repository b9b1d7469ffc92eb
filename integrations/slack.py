"""Slack: a team's incoming-webhook URL gets a one-line notice each time its agents are told about a case.

Posts over HTTP in a task (`integrations.tasks.post_to_slack`), after the case's transaction commits.
"""

import json
import urllib.request

SLACK_TIMEOUT_SECONDS = 10


def slack_text(*, headline: str, case_id: int, score: int, url: str) -> str:
    return f"{headline}: case #{case_id} (score {score}) {url}"


def slack_post(*, webhook_url: str, text: str) -> None:
    """POST `{"text": ...}` to a Slack incoming webhook; an OSError (unreachable, HTTP error) is for the task."""
    request = urllib.request.Request(
        webhook_url, data=json.dumps({"text": text}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=SLACK_TIMEOUT_SECONDS):
        pass
