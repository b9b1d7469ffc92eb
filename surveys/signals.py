from django.dispatch import Signal

# Sent once per created or changed response, after the answer committed, by the processing of its announcement
# (surveys.services.announcements, the answers' outbox): inside the transaction that marks the announcement done,
# so receivers write in it (a case, a rollup count, webhook deliveries) and their writes commit exactly once,
# all together; a receiver that raises rolls them all back and the announcement is retried. Receivers must not
# swallow database errors, nor call anything that cannot be rolled back (post after commit instead).
# Arguments: response_id (int), created (bool), changed (the fields a change touched: "score",
# "comment"; empty when created).
response_submitted = Signal()

# Sent inside the transaction that deletes a response a link scanner created, just before the
# delete, so receivers can undo what they derived from it (rollup counts) while it still exists.
# Arguments: response_id (int).
response_withdrawn = Signal()

# Sent after the transaction that stored what `insights` read in a response's comment (language,
# sentiment, themes) commits, when any of it changed. Arguments: response_id (int).
response_analysed = Signal()

# Sent inside the transaction that erases a person (surveys.services.privacy.contact_erase), before surveys
# touches its own rows, so each app above erases what it keeps of them while their answers, cases and
# messages still exist. Arguments: subject (an `ErasureSubject`: the contact's id and addresses, the ids of
# their events, invitations and responses, and `hard`), rows (a Counter: each receiver adds how many rows of
# each kind it erased or anonymised). Without `hard` the answers stay as anonymous scores: the contact's and
# their events' properties become empty and every comment and free-text answer goes. Receivers must erase
# only their own app's data, never send anything (provider deletions are queued after commit), and raise
# rather than leave half an erasure: the whole erasure then rolls back.
contact_erasing = Signal()

# Sent to gather everything stored about a person (surveys.services.privacy.contact_export). Arguments:
# contact (the Contact), response_ids (their answers' ids). Each receiver returns a dict of sections
# ({"cases": [...]}) of its own app's data about them, JSON-ready; it must not change anything.
contact_exporting = Signal()

# Sent inside the transaction of an erasure or an export, once it is done, for the audit trail (console).
# Arguments: action ("erased" or "exported"), contact_id, rows ({kind: count}), mode ("anonymised", "hard"
# or "" for an export), actor (the User or ApiKey who asked, or None), actor_label (who, in words, e.g.
# "command line"). Never personal data: receivers store exactly these.
contact_privacy_recorded = Signal()
