"""A connection whose prepared statements a migration has outdated is closed when its request or task ends.

PostgreSQL re-plans a prepared statement after a schema change by itself, but refuses to run one whose result
columns changed type ("cached plan must not change result type"), and keeps refusing on that connection: a
migration that widens a column would break every web thread and worker reading that table until they
restart. Django closes a connection whose `close_at` has passed when the request or task ends
(`close_if_unusable_or_obsolete`), so one statement fails per connection and the next connection prepares
anew. Connected when the notifications app is ready (the bottom of the house), for PostgreSQL connections
that prepare statements (`config.settings.base.database_tune`).
"""

from django.db import NotSupportedError

PLAN_CHANGED = "cached plan must not change result type"


def close_when_plans_changed(execute, sql, params, many, context):
    try:
        return execute(sql, params, many, context)
    except NotSupportedError as error:
        if PLAN_CHANGED in str(error):
            context["connection"].close_at = 0
        raise


def prepared_statements_guard(*, connection, **kwargs) -> None:
    """`connection_created`: wrap the statements of a connection that prepares them. Once per wrapper (Django
    reopens a connection on the same wrapper, whose list outlives it), and first in the list: a caller's
    `execute_wrapper()` block that opens the connection pops the last one when it ends."""
    if connection.vendor != "postgresql" or connection.settings_dict["OPTIONS"].get("prepare_threshold") is None:
        return
    if close_when_plans_changed not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, close_when_plans_changed)
