import pytest
from django.core.management import CommandError, call_command

from feedback.models import Team, User


@pytest.mark.django_db
def test_create_user_creates_agent_and_team(capsys):
    call_command(
        "create_user",
        "--email",
        "Ann@Example.com",
        "--role",
        "agent",
        "--team",
        "Care",
        "--password",
        "pw-1234567-long",
    )

    user = User.objects.get()
    assert (user.email, user.role, user.team.name) == ("ann@example.com", "agent", "Care")
    assert user.check_password("pw-1234567-long")
    assert capsys.readouterr().out == "Created agent ann@example.com in team Care.\n"


@pytest.mark.django_db
def test_create_user_prints_a_generated_password(capsys):
    call_command("create_user", "--email", "boss@example.com", "--role", "manager")

    out = capsys.readouterr().out.splitlines()
    password = out[1].removeprefix("Password: ")
    user = User.objects.get()
    assert (user.is_manager, user.is_staff, user.team) == (True, True, None)
    assert user.check_password(password)


@pytest.mark.django_db
def test_create_user_refuses_a_duplicate_email():
    call_command("create_user", "--email", "ann@example.com", "--role", "agent", "--password", "pw-1234567-long")

    with pytest.raises(CommandError, match="already exists"):
        call_command("create_user", "--email", "ANN@example.com", "--role", "agent", "--team", "Care")
    assert User.objects.count() == 1
    assert not Team.objects.exists()


@pytest.mark.django_db
def test_create_user_refuses_a_weak_password():
    with pytest.raises(CommandError, match="too short"):
        call_command("create_user", "--email", "ann@example.com", "--role", "agent", "--password", "pw-1")

    assert User.objects.count() == 0


@pytest.mark.django_db
def test_create_user_manager_is_not_a_superuser():
    call_command("create_user", "--email", "boss@example.com", "--role", "manager", "--password", "a-Long-passphrase-9")

    assert (User.objects.get().is_staff, User.objects.get().is_superuser) == (True, False)
