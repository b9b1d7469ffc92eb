"""The optional read replica: dashboard reads go to it, everything else stays on the primary."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from config.replica import REPLICA, ReplicaReadsMiddleware, ReplicaRouter, replica_wanted
from config.settings import base
from surveys.models import Survey


@pytest.fixture
def seen():
    return []


@pytest.fixture
def middleware(settings, seen):
    settings.DATABASE_REPLICA_PATHS = ["/dashboard/", "/v1/metrics"]

    def view(request):
        seen.append(ReplicaRouter().db_for_read(Survey))
        return HttpResponse("ok")

    return ReplicaReadsMiddleware(view)


@pytest.mark.parametrize(
    ("method", "path", "database"),
    [
        ("get", "/dashboard/", REPLICA),
        ("get", "/dashboard/export/responses.csv", REPLICA),
        ("head", "/v1/metrics.json", REPLICA),
        ("post", "/dashboard/", None),
        ("get", "/follow-ups/", None),
        ("get", "/s/abc/", None),
    ],
)
def test_only_reads_of_the_listed_pages_go_to_the_replica(middleware, seen, method, path, database):
    middleware(getattr(RequestFactory(), method)(path))

    assert seen == [database]
    assert replica_wanted.get() is False  # nothing leaks into the next request of the thread


def test_writes_and_migrations_stay_on_the_primary():
    router = ReplicaRouter()
    token = replica_wanted.set(True)
    try:
        assert router.db_for_write(Survey) is None
    finally:
        replica_wanted.reset(token)
    assert router.allow_migrate(REPLICA, "surveys") is False
    assert router.allow_migrate("default", "surveys") is True


def test_the_replica_is_configured_only_with_its_url(monkeypatch):
    middleware = ["django.contrib.sessions.middleware.SessionMiddleware"]
    databases = {}
    monkeypatch.delenv("DATABASE_REPLICA_URL", raising=False)
    assert base.database_replica_add(databases, middleware) == []
    assert databases == {}

    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://reader@replica.internal:5432/closeloop")
    routers = base.database_replica_add(databases, middleware)
    base.database_replica_add(databases, middleware)  # production.py calls it again: no second middleware

    assert routers == ["config.replica.ReplicaRouter"]
    assert databases["replica"]["HOST"] == "replica.internal"
    assert databases["replica"]["CONN_MAX_AGE"] == base.CONN_MAX_AGE
    assert databases["replica"]["TEST"] == {"MIRROR": "default"}
    assert middleware == [
        "config.replica.ReplicaReadsMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
    ]
