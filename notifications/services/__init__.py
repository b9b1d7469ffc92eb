"""Writes for outbound messages and consent, one module per job: queue, send exactly once, track, suppress, inbound SMS.

Knows nothing of surveys or follow-ups."""
