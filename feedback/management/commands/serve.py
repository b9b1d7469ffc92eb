import logging
import os
import threading

from celery.schedules import maybe_schedule
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from config.celery_app import app as celery_app
from feedback.demo import DEMO_API_KEY, DEMO_LOGINS, demo_is_loaded, demo_load

logger = logging.getLogger(__name__)


def _run_beat_in_process(stop: threading.Event) -> None:
    """Stands in for Celery beat when there is no broker: every periodic job of
    `CELERY_BEAT_SCHEDULE` runs in this thread on its own schedule."""
    celery_app.loader.import_default_modules()  # registers every app's tasks, as a worker would
    entries = {
        name: (entry, maybe_schedule(entry["schedule"])) for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
    }
    last_run = dict.fromkeys(entries, timezone.now())
    while not stop.is_set():
        for name, (entry, schedule) in entries.items():
            if not schedule.is_due(last_run[name]).is_due:
                continue
            last_run[name] = timezone.now()
            try:
                celery_app.tasks[entry["task"]].apply(args=entry.get("args", ()))
            except Exception:
                logger.exception("periodic job %s failed; it runs again on its next tick", name)
            finally:
                close_old_connections()
        stop.wait(0.5)


class Command(BaseCommand):
    help = "Migrate, load the demo workspace on first start (DEMO=0 to skip) and serve on PORT."

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        demo_wanted = os.environ.get("DEMO", "1") != "0"
        if demo_wanted and not demo_is_loaded():
            self.stdout.write("Loading the demo workspace…")
            demo_load()
        base = settings.SITE_URL
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Closeloop is starting.",
                    f"  Agent inbox     {base}/follow-ups/",
                    f"  Dashboard       {base}/dashboard/",
                    f"  Admin           {base}/admin/",
                    f"  API docs        {base}/api/docs/",
                    f"  Health          {base}/healthz",
                ]
            )
        )
        if demo_wanted:
            self.stdout.write("Demo logins:")
            for email, password, role in DEMO_LOGINS:
                self.stdout.write(f"  {role:<8} {email} / {password}")
            self.stdout.write(f"Demo API key: {DEMO_API_KEY}")
            self.stdout.write(
                f"  curl -X POST {base}/api/events/ -H 'Authorization: Bearer {DEMO_API_KEY}' "
                "-H 'Content-Type: application/json' "
                """-d '{"type": "purchase", "contact": {"email": "you@example.com", "name": "You"}}'"""
            )
        if not settings.BROKER_CONFIGURED:
            threading.Thread(
                target=_run_beat_in_process, args=(threading.Event(),), daemon=True, name="in-process-beat"
            ).start()
            self.stdout.write("No CELERY_BROKER_URL: background work and periodic jobs run in this process.")
        call_command("runserver", f"127.0.0.1:{settings.PORT}", use_reloader=False)
