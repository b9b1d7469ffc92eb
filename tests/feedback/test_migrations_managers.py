import importlib

import pytest
from django.apps import apps

from tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db

demote = importlib.import_module("feedback.migrations.0012_managers_are_not_superusers").demote


def test_existing_managers_stop_being_superusers_and_keep_the_admin():
    manager = ManagerFactory(is_superuser=True, is_staff=True)
    agent = UserFactory()

    demote(apps, None)

    manager.refresh_from_db()
    agent.refresh_from_db()
    assert (manager.is_superuser, manager.is_staff, manager.has_perm("surveys.change_survey")) == (False, True, True)
    assert agent.is_superuser is False
