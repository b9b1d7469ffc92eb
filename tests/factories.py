import uuid
from datetime import timedelta

import factory
from django.conf import settings
from django.utils import timezone

from feedback.models import FollowUp, RootCause, RoutingRule, Team, User
from insights.rollups import rollup_count_follow_up
from notifications.models import Channel, Message
from surveys.models import Contact, Event, Invitation, Response, Survey, SurveyLink, TriggerRule
from surveys.services.surveys import survey_mark_fix_check
from surveys.tokens import invitation_token, token_hash


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")
    sla_hours = 24


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@closeloop.test")
    role = User.Role.AGENT
    team = factory.SubFactory(TeamFactory)
    password = factory.PostGenerationMethodCall("set_password", "password")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class ManagerFactory(UserFactory):
    role = User.Role.MANAGER
    team = None
    is_staff = True
    # A manager's powers come from their role (feedback.backends.RoleBackend), not from being a superuser.
    is_superuser = False


class RootCauseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RootCause
        django_get_or_create = ("name",)

    name = "Late delivery"


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    name = factory.Sequence(lambda n: f"Survey {n}")
    kind = Survey.Kind.NPS
    product_name = "Acme"


class TriggerRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TriggerRule

    event_type = "purchase"
    survey = factory.SubFactory(SurveyFactory)
    channel = TriggerRule.ChannelChoice.EMAIL


class SurveyLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyLink

    survey = factory.SubFactory(SurveyFactory)
    slug = factory.Sequence(lambda n: f"survey-link-{n}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    name = factory.Sequence(lambda n: f"Customer {n}")
    locale = "en"


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    source = "test"
    type = "purchase"
    external_id = factory.Sequence(lambda n: f"event-{n}")
    occurred_at = factory.LazyFunction(timezone.now)
    contact = factory.SubFactory(ContactFactory)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    channel = Channel.EMAIL
    recipient = "customer@example.com"
    subject = "A quick question"
    body_text = "How likely are you to recommend us?"
    # As `message_queue` sets it: the sweeper looks at a queued message one lease after it was queued.
    sweep_at = factory.LazyFunction(lambda: timezone.now() + timedelta(seconds=settings.SEND_LEASE_SECONDS))


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    contact = factory.SubFactory(ContactFactory)
    survey = factory.SubFactory(SurveyFactory)
    channel = Channel.EMAIL
    scheduled_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=28))
    status = Invitation.Status.QUEUED
    public_id = factory.LazyFunction(uuid.uuid4)
    token_hash = factory.LazyAttribute(lambda invitation: token_hash(invitation_token(invitation.public_id)))


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Response

    invitation = factory.SubFactory(InvitationFactory)
    survey = factory.SelfAttribute("invitation.survey")
    contact = factory.SelfAttribute("invitation.contact")
    score = 3
    confirmed_at = factory.LazyFunction(timezone.now)


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule
        skip_postgeneration_save = True

    position = 1
    team = factory.SubFactory(TeamFactory)

    @factory.post_generation
    def fix_check_flagged(rule, create, extracted, **kwargs):
        # A rule stands for one saved through routing_rule_save, which flags its "did we fix it?" survey.
        if create and rule.fix_check_survey_id:
            survey_mark_fix_check(survey_id=rule.fix_check_survey_id)


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp
        skip_postgeneration_save = True

    response = factory.SubFactory(ResponseFactory)
    team = factory.SubFactory(TeamFactory)
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=24))

    @factory.post_generation
    def counted(follow_up, create, extracted, **kwargs):
        # A case stands for one the services opened, which announce it: the dashboard's rollups count it.
        if create:
            rollup_count_follow_up(follow_up_id=follow_up.pk)
