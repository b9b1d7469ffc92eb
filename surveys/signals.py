from django.dispatch import Signal

# Sent after the transaction that created or changed a response commits.
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
