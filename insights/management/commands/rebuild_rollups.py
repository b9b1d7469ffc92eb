from django.core.management.base import BaseCommand

from insights.rollups import rollup_rebuild


class Command(BaseCommand):
    help = "Recount the dashboard's rollups from every response, invitation and case."

    def handle(self, *args, **options) -> None:
        buckets, funnel_rows, loop_buckets = rollup_rebuild()
        self.stdout.write(
            f"Rebuilt {buckets} score buckets, {funnel_rows} funnel rows and {loop_buckets} loop buckets."
        )
