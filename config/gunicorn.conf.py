"""gunicorn's settings for `bin/closeloop web`: the same in production, in `make run` and in the benches.

Everything an operator may change is an environment variable (docs/operations.md). With no
`CELERY_BROKER_URL` (the embedded product of `make run`) there is one worker process, and it also
runs the periodic jobs of `CELERY_BEAT_SCHEDULE` in a thread (tasks then run in-process): a second
process would run every job twice.
"""

import os

broker_configured = bool(os.environ.get("CELERY_BROKER_URL"))

bind = [os.environ.get("WEB_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"]
# One process per core and a few threads each: requests mostly wait on PostgreSQL and Redis.
workers = int(os.environ.get("WEB_CONCURRENCY") or (2 * (os.cpu_count() or 1) + 1)) if broker_configured else 1
threads = int(os.environ.get("WEB_THREADS") or 4)
worker_class = "gthread"
# Loading the app before forking shares its memory between workers (copy on write; config/wsgi.py freezes it).
preload_app = True
# A gthread worker's heartbeat does not depend on its requests, so this only catches a wedged process.
timeout = int(os.environ.get("WEB_TIMEOUT") or 60)
# SIGTERM: stop accepting, let requests in flight finish for this long, then exit.
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT") or 30)
keepalive = 5
# Recycle workers now and then so that a slow leak cannot grow without bound; jitter spreads restarts.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS") or 10000)
max_requests_jitter = max_requests // 10
# Behind a reverse proxy on another host, list it here (X-Forwarded-Proto / -For are trusted from it).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
proc_name = "closeloop-web"
# gunicorn's runtime control socket (one path per user by default) is not used; several servers share hosts.
control_socket_disable = True
# Requests are logged by the application (config/observability/middleware.py): one line each, with the
# request id and the route instead of the path (paths carry survey tokens).
accesslog = None
# Whatever logs gunicorn writes (an operator may turn its access log on), tokens never appear in them.
logger_class = "config.observability.gunicorn_logger.TokenScrubbingLogger"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "INFO").lower()
if os.environ.get("LOG_FORMAT", "plain") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "config.observability.logging.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "loggers": {"gunicorn.error": {"handlers": ["console"], "level": loglevel.upper(), "propagate": False}},
    }


def child_exit(server, worker):
    """A dead worker's live gauges leave the multi-process metrics; its counters stay summed."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    if not broker_configured:
        from config.inprocess import in_process_beat_start

        worker.closeloop_beat = in_process_beat_start()


def worker_exit(server, worker):
    """On SIGTERM the in-process beat finishes the job it is running before the process exits."""
    beat = getattr(worker, "closeloop_beat", None)
    if beat is not None:
        beat.stop(timeout=graceful_timeout)
