"""The tables every event, invitation and message writes keep only the indexes something reads.

PostgreSQL keeps a pattern-matching copy (`varchar_pattern_ops`) beside the index of a `db_index`/`unique` text
field; nothing looks these columns up by prefix, so their migrations (`surveys` 0020, `notifications` 0011) drop
the copies, and a field declared with `db_index=True` again would bring one back and fail here.
"""

import pytest
from django.db import connection

from notifications.models import Message
from surveys.models import Contact, Event, Invitation

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the pattern copies are PostgreSQL's"),
]


def _indexes(model) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [model._meta.db_table])
        return dict(cursor.fetchall())


@pytest.mark.parametrize("model", [Contact, Event, Invitation, Message])
def test_a_hot_table_has_no_pattern_matching_index_copies(model):
    copies = [name for name, definition in _indexes(model).items() if "pattern_ops" in definition]

    assert copies == []


@pytest.mark.parametrize(
    "model,name,column",
    [
        (Message, "message_provider_id_idx", "provider_message_id"),
        (Message, "message_unsubscribe_hash_idx", "unsubscribe_hash"),
        (Contact, "contact_phone_idx", "phone"),
        (Event, "event_type_idx", "type"),
        (Invitation, "invitation_unique_token_hash", "token_hash"),
    ],
)
def test_the_columns_looked_up_whole_keep_their_equality_index(model, name, column):
    assert _indexes(model)[name].endswith(f"USING btree ({column})")
