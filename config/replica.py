"""An optional read replica (`DATABASE_REPLICA_URL`) for the pages that only read and read much: the dashboard,
its CSV exports and `/v1/metrics`. Everything else, and every write, stays on the primary.

Reads go to the replica only inside a request whose path starts with one of `DATABASE_REPLICA_PATHS`
and whose method is GET or HEAD (the middleware below sets the flag): a replica lags the primary by
a moment, which a dashboard tolerates and a form that just saved does not.
"""

import contextvars

from django.conf import settings

replica_wanted: contextvars.ContextVar[bool] = contextvars.ContextVar("closeloop_replica_wanted", default=False)

REPLICA = "replica"


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return REPLICA if replica_wanted.get() else None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the primary's rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA


class ReplicaReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.paths = tuple(settings.DATABASE_REPLICA_PATHS)

    def __call__(self, request):
        wanted = request.method in ("GET", "HEAD") and request.path.startswith(self.paths)
        token = replica_wanted.set(wanted)
        try:
            return self.get_response(request)
        finally:
            replica_wanted.reset(token)
