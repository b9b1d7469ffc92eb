import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from feedback.models import RoutingRule
from feedback.tasks import open_follow_up
from integrations.tasks import post_to_slack
from tests.factories import ResponseFactory, RoutingRuleFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    """A local HTTP server standing in for Slack: records each POST's JSON body (loopback is allowed here)."""
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    bodies = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", bodies
    server.shutdown()


def test_post_to_slack_sends_the_text_as_json(receiver):
    url, bodies = receiver

    post_to_slack(url, "Escalation: SLA breached")

    assert bodies == [{"text": "Escalation: SLA breached"}]


def test_post_to_slack_goes_through_the_webhooks_address_guard(receiver, settings, caplog):
    url, bodies = receiver
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False

    post_to_slack(url, "Escalation: SLA breached")

    assert bodies == []
    assert "Slack webhook of a team refused" in caplog.text


def test_open_follow_up_posts_assignment_to_the_team_slack(receiver, django_capture_on_commit_callbacks):
    url, bodies = receiver
    team = TeamFactory(slack_webhook_url=url)
    RoutingRuleFactory(team=team)
    UserFactory(team=team)
    response = ResponseFactory(score=1)

    with django_capture_on_commit_callbacks(execute=True):
        open_follow_up(response.pk)

    follow_up = response.follow_up
    assert bodies == [
        {
            "text": f"New follow-up assigned to you: case #{follow_up.pk} (score 1) "
            f"http://testserver/follow-ups/{follow_up.pk}/"
        }
    ]


def test_open_follow_up_posts_a_queued_case_to_the_team_slack_and_emails_nobody(
    receiver, outbox, django_capture_on_commit_callbacks
):
    url, bodies = receiver
    team = TeamFactory(slack_webhook_url=url)
    RoutingRuleFactory(team=team, assignment=RoutingRule.Assignment.QUEUE)
    UserFactory(team=team)
    response = ResponseFactory(score=1)

    with django_capture_on_commit_callbacks(execute=True):
        open_follow_up(response.pk)

    follow_up = response.follow_up
    assert follow_up.assignee is None
    assert bodies == [
        {
            "text": f"New follow-up in the team queue: case #{follow_up.pk} (score 1) "
            f"http://testserver/follow-ups/{follow_up.pk}/"
        }
    ]
    assert outbox == []
