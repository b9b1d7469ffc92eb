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
