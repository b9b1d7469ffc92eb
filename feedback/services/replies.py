"""The channel a customer answered on; replies both ways live in `feedback.services.conversation`."""

from feedback.models import FollowUp
from notifications.models import PHONE_CHANNELS, Channel


def follow_up_reply_channel(follow_up: FollowUp) -> tuple[str, str]:
    """The channel the customer answered on and their address there."""
    contact = follow_up.response.contact
    channel = follow_up.response.invitation.channel if follow_up.response.invitation_id else Channel.EMAIL
    # An answer given in a page (the web widget, a public link or kiosk) is replied to by email: no message
    # channel to answer on (a public link's respondent may have left the email they may be contacted at).
    channel = channel if channel in Channel.values else Channel.EMAIL
    return channel, contact.phone if channel in PHONE_CHANNELS else contact.email
