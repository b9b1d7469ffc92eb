import random

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from surveys.models import Invitation, TriggerRule
from surveys.services.contacts import ContactData
from surveys.services.dispatch import invitations_dispatch_due
from surveys.services.ingest import EventData, event_ingest
from surveys.services.responses import response_submit

SIMULATION_SOURCE = "simulate"


class Command(BaseCommand):
    help = "Send N fake events through intake, dispatch their invitations and answer some of them."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, required=True)
        parser.add_argument("--answer-rate", type=float, default=0.5, help="Share of invitations answered (0-1).")
        parser.add_argument("--seed", type=int, help="Make the run repeatable.")

    def handle(self, *args, events: int, answer_rate: float, seed: int | None, **options):
        if events < 1:
            raise CommandError("--events must be at least 1.")
        if not 0 <= answer_rate <= 1:
            raise CommandError("--answer-rate must be between 0 and 1.")
        event_types = sorted(set(TriggerRule.objects.filter(is_active=True).values_list("event_type", flat=True)))
        if not event_types:
            raise CommandError("No active trigger rule: create one in the admin first.")
        rng = random.Random(seed)
        run = rng.randrange(16**6)
        scheduled = 0
        for index in range(events):
            result = event_ingest(
                source=SIMULATION_SOURCE,
                event=EventData(
                    type=rng.choice(event_types),
                    external_id=f"sim-{run:06x}-{index}",
                    contact=ContactData(
                        email=f"sim-{run:06x}-{index}@example.com",
                        name=f"Simulated customer {index}",
                        locale=rng.choice(["en", "fr"]),
                    ),
                ),
            )
            scheduled += sum(1 for outcome in result.outcomes if outcome.invitation)
        dispatched = 0
        while batch := invitations_dispatch_due():
            dispatched += batch
        answered = 0
        invitations = Invitation.objects.filter(
            event__source=SIMULATION_SOURCE, event__external_id__startswith=f"sim-{run:06x}-", response__isnull=True
        ).select_related("survey")
        for invitation in invitations:
            if rng.random() >= answer_rate:
                continue
            with transaction.atomic():
                response_submit(invitation=invitation, score=rng.choice(list(invitation.survey.scale.scores)))
            answered += 1
        self.stdout.write(
            f"{events} events, {scheduled} invitations scheduled, {dispatched} sent, {answered} answered."
        )
