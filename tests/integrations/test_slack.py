import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from feedback.models import RoutingRule
from feedback.tasks import open_follow_up
from integrations.slack import SlackChannel, SlackError, slack_channels
from integrations.tasks import post_to_slack, post_to_slack_channel
from tests.factories import ResponseFactory, RoutingRuleFactory, TeamFactory, UserFactory
from tests.fakes.slack import TOKEN as SLACK_TOKEN
from tests.fakes.slack import FakeSlack, slack_channel

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


# --- with a bot token: the channel list and chat.postMessage ------------------------------------------


@pytest.fixture
def fake_slack(settings):
    """A local Slack Web API with 450 channels (three pages of 200), the workspace's bot token set."""
    channels = [slack_channel(n, f"team-{n:03d}", private=n % 50 == 0) for n in range(450, 0, -1)]
    fake = FakeSlack(channels).start()
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    settings.SLACK_API_BASE_URL = fake.api_url
    settings.SLACK_BOT_TOKEN = SLACK_TOKEN
    yield fake
    fake.stop()


def test_slack_channels_follows_the_cursor_through_every_page(fake_slack):
    channels = slack_channels()

    assert len(channels) == 450
    assert channels[0] == SlackChannel("C00000001", "team-001", False)
    assert channels[49] == SlackChannel("C00000050", "team-050", True)
    assert [call.method for call in fake_slack.calls] == ["conversations.list"] * 3
    assert [call.body.get("cursor") for call in fake_slack.calls] == [None, "MjAw", "NDAw"]
    assert {
        (call.token, call.body["types"], call.body["exclude_archived"], call.body["limit"]) for call in fake_slack.calls
    } == {(SLACK_TOKEN, "public_channel,private_channel", "true", "200")}


def test_slack_channels_says_why_slack_refused(fake_slack, settings):
    settings.SLACK_BOT_TOKEN = "xoxb-revoked"

    with pytest.raises(SlackError, match=r"^Slack refused conversations.list: invalid_auth.$"):
        slack_channels()


def test_slack_channels_says_slack_is_unreachable(settings):
    settings.SLACK_BOT_TOKEN = SLACK_TOKEN
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    settings.SLACK_API_BASE_URL = "http://127.0.0.1:9/api"  # the discard port: nothing listens

    with pytest.raises(SlackError, match="^Slack could not be reached"):
        slack_channels()


def test_post_to_slack_channel_posts_the_text_with_the_bot_token(fake_slack, caplog):
    post_to_slack_channel("C00000007", "Escalation: SLA breached")
    post_to_slack_channel("C99999999", "Escalation: SLA breached")

    assert fake_slack.posted() == [
        {"channel": "C00000007", "text": "Escalation: SLA breached"},
        {"channel": "C99999999", "text": "Escalation: SLA breached"},
    ]
    assert "Slack notice to channel C99999999 not posted: Slack refused chat.postMessage: channel_not_found." in (
        caplog.text
    )


def test_a_team_with_a_picked_channel_is_told_there_rather_than_by_its_webhook(
    fake_slack, receiver, django_capture_on_commit_callbacks
):
    url, bodies = receiver
    team = TeamFactory(slack_webhook_url=url, slack_channel_id="C00000007", slack_channel_name="team-007")
    RoutingRuleFactory(team=team, assignment=RoutingRule.Assignment.QUEUE)
    response = ResponseFactory(score=1)

    with django_capture_on_commit_callbacks(execute=True):
        open_follow_up(response.pk)

    case = response.follow_up
    assert fake_slack.posted() == [
        {
            "channel": "C00000007",
            "text": f"New follow-up in the team queue: case #{case.pk} (score 1) http://testserver/follow-ups/{case.pk}/",
        }
    ]
    assert bodies == []
