import pytest
from django.core.management import call_command

from workspace.management.commands import serve


@pytest.mark.django_db
def test_serve_migrates_and_execs_gunicorn_with_the_production_config(monkeypatch, settings, capsys):
    settings.BROKER_CONFIGURED = False
    monkeypatch.setenv("DEMO", "0")
    executed = []
    monkeypatch.setattr(serve.os, "execv", lambda path, argv: executed.append(argv))

    call_command("serve")

    assert len(executed) == 1
    argv = executed[0]
    assert argv[1:4] == ["-m", "gunicorn", "--config"]
    assert argv[4] == str(settings.BASE_DIR / "config" / "gunicorn.conf.py")
    assert argv[-1] == "config.wsgi"
    assert "runserver" not in " ".join(argv)
    out = capsys.readouterr().out
    assert "background work and periodic jobs run in the web process" in out
    assert f"{settings.SITE_URL}/follow-ups/" in out
    # A manager's first stop is the console: it is listed beside the inbox and the dashboard.
    assert f"  Settings        {settings.SITE_URL}/settings/" in out
