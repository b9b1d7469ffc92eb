import os
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from workspace.demo import (
    DEMO_API_KEY,
    DEMO_LINK_SLUG,
    DEMO_LOGINS,
    DEMO_WIDGET_KEY,
    DEMO_WIDGET_ORIGINS,
    demo_is_loaded,
    demo_load,
)


def gunicorn_argv(*extra: str) -> list[str]:
    """gunicorn with the settings production uses (config/gunicorn.conf.py); never Django's development server."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        str(settings.BASE_DIR / "config" / "gunicorn.conf.py"),
        *extra,
        "config.wsgi",
    ]


class Command(BaseCommand):
    help = (
        "Migrate, load the demo workspace on first start (DEMO=0 to skip) and serve on PORT with gunicorn;"
        " without a broker the periodic jobs run in its one worker process (what `bin/closeloop web` runs then)."
    )

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
                    f"  Settings        {base}/settings/   (managers: surveys, rules, teams, keys, privacy)",
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
            self.stdout.write(
                f"Demo web widget (allowed on {', '.join(DEMO_WIDGET_ORIGINS)}):\n"
                f'  <script src="{base}/web/snippet.js" data-key="{DEMO_WIDGET_KEY}"></script>'
                "<script>closeloop.survey({forceDisplay: true});</script>"
            )
            link = f"{base}/l/{DEMO_LINK_SLUG}/"
            self.stdout.write(f"Demo survey link: {link} (kiosk: {link}?kiosk=1, QR code: {link}qr.svg)")
        if not settings.BROKER_CONFIGURED:
            self.stdout.write("No CELERY_BROKER_URL: background work and periodic jobs run in the web process.")
        self.stdout.flush()
        argv = gunicorn_argv()
        os.execv(argv[0], argv)
