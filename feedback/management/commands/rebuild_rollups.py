from django.core.management.base import BaseCommand

from feedback.rollups import rollup_rebuild


class Command(BaseCommand):
    help = "Recount the dashboard's rollups from every response and invitation."

    def handle(self, *args, **options) -> None:
        buckets, funnel_rows = rollup_rebuild()
        self.stdout.write(f"Rebuilt {buckets} score buckets and {funnel_rows} funnel rows.")
