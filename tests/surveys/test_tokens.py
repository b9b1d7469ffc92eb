import uuid

from django.utils.crypto import salted_hmac

from surveys.tokens import invitation_token


def test_invitation_token_is_the_salted_hmac_links_already_sent_carry(settings):
    public_id = uuid.UUID("6f1c2a9e-3b7d-4c51-9a0e-2f8d1b6c4e73")
    expected = salted_hmac("closeloop.invitation", str(public_id), algorithm="sha256").hexdigest()

    assert invitation_token(public_id) == expected
    assert len(expected) == 64


def test_invitation_token_follows_a_rotated_secret_key(settings):
    public_id = uuid.uuid4()
    before = invitation_token(public_id)

    settings.SECRET_KEY = "rotated-" + settings.SECRET_KEY

    assert invitation_token(public_id) != before
    assert (
        invitation_token(public_id)
        == salted_hmac("closeloop.invitation", str(public_id), algorithm="sha256").hexdigest()
    )
