import pytest

from surveys.models import Invitation
from surveys.services.dispatch import invitations_dispatch_due
from surveys.services.scheduling import invitation_cancel_unsent
from tests.factories import InvitationFactory

pytestmark = pytest.mark.django_db


def test_invitation_cancel_unsent_cancels_a_scheduled_invitation_with_its_reason():
    invitation = InvitationFactory(status=Invitation.Status.SCHEDULED)

    assert invitation_cancel_unsent(invitation_id=invitation.pk, reason="case_reopened") is True
    assert invitations_dispatch_due() == 0

    invitation.refresh_from_db()
    assert (invitation.status, invitation.cancel_reason, invitation.message) == ("cancelled", "case_reopened", None)


def test_invitation_cancel_unsent_leaves_an_invitation_that_went_out():
    invitation = InvitationFactory(status=Invitation.Status.SCHEDULED)
    invitations_dispatch_due()

    assert invitation_cancel_unsent(invitation_id=invitation.pk, reason="case_reopened") is False

    invitation.refresh_from_db()
    assert (invitation.status, invitation.cancel_reason) == (Invitation.Status.QUEUED, "")
