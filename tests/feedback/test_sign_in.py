"""Sign-in: 10 failures for one account from one address lock that pair out for 15 minutes (right password
included) with a page that says so; Django's password validators; a manager is not a superuser."""

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from tests.conftest import BROWSER_USER_AGENT
from tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Enough-passphrase-42"
NOW = "2026-03-02 10:00:00+00:00"


@pytest.fixture
def person():
    user = UserFactory(email="agent@closeloop.test")
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(password: str, address: str = "203.0.113.7", email: str = "agent@closeloop.test"):
    client = Client(HTTP_USER_AGENT=BROWSER_USER_AGENT, REMOTE_ADDR=address)
    return client.post("/accounts/login/", {"username": email, "password": password})


def test_ten_failures_lock_the_account_from_that_address_even_with_the_right_password(person):
    with time_machine.travel(NOW, tick=False):
        failures = [sign_in("wrong").status_code for _ in range(10)]
        locked = sign_in(PASSWORD)

    # The tenth failure is answered with the lock page already.
    assert failures == [200] * 9 + [429]
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "15 minutes" in locked.content.decode()
    assert "_auth_user_id" not in locked.client.session


def test_nine_failures_then_the_right_password_signs_in(person):
    with time_machine.travel(NOW, tick=False):
        for _ in range(9):
            sign_in("wrong")
        page = sign_in(PASSWORD)

    assert (page.status_code, page["Location"]) == (302, "/follow-ups/")


def test_the_lock_is_per_address_and_lifts_after_15_minutes(person):
    with time_machine.travel(NOW, tick=False) as traveller:
        for _ in range(10):
            sign_in("wrong")
        elsewhere = sign_in(PASSWORD, address="198.51.100.9")
        traveller.shift(14 * 60)
        still = sign_in(PASSWORD)  # an attempt while locked counts too: the 15 minutes start again
        traveller.shift(15 * 60 + 1)
        later = sign_in(PASSWORD)

    assert elsewhere.status_code == 302
    assert still.status_code == 429
    assert later.status_code == 302


@pytest.mark.parametrize("password", ["short1", "password123", "1234567890123", "agent@closeloop.test"])
def test_weak_passwords_are_refused(person, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=person)


def test_a_manager_is_not_a_superuser_yet_administers_the_product():
    manager = ManagerFactory()
    client = Client()
    client.force_login(manager)

    assert manager.is_superuser is False
    assert manager.has_perm("surveys.change_survey") and manager.has_perm("feedback.add_user")
    assert not manager.has_perm("auth.change_group")
    assert client.get("/admin/surveys/survey/").status_code == 200
    assert client.get("/admin/feedback/team/").status_code == 200


def test_a_manager_cannot_make_anyone_a_superuser_in_the_admin(agent):
    manager = ManagerFactory()
    client = Client()
    client.force_login(manager)

    page = client.get(f"/admin/feedback/user/{agent.pk}/change/")

    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.content.decode()


def test_an_agent_has_no_admin_permissions(agent):
    assert not agent.has_perm("surveys.change_survey")
    assert not agent.has_module_perms("surveys")


def test_an_address_longer_than_an_email_is_a_field_error_not_a_sign_in_attempt(person):
    answer = sign_in("wrong", email="x" * 300)

    assert answer.status_code == 200
    assert answer.context["form"].errors["username"] == ["Ensure this value has at most 254 characters (it has 300)."]
    assert not AccessAttempt.objects.exists()
