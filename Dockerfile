# syntax=docker/dockerfile:1
# Closeloop's image: one image for every process (`bin/closeloop web|worker|beat|migrate|manage`).
# Build stage: compilers and pip; the final stage gets only the virtualenv and the code, and runs as a user.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt
WORKDIR /app
COPY . .
# Hashed, compressed static files are made once, here (the web process then skips collectstatic). The
# settings need their variables to load; these values exist only for this step.
RUN DJANGO_SETTINGS_MODULE=config.settings.production \
    DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 SITE_URL=https://build.invalid DJANGO_ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput --verbosity 0 \
 && python -m compileall -q /app /opt/venv \
 && rm -rf /app/.git /app/tests /app/bench /app/node_modules

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    COLLECTSTATIC=0 \
    WEB_BIND=0.0.0.0:8000 \
    PROMETHEUS_MULTIPROC_ROOT=/tmp/closeloop-metrics \
    CELERY_BEAT_SCHEDULE_FILE=/app/var/celerybeat-schedule \
    LOG_FORMAT=json
RUN groupadd --system --gid 10001 closeloop \
 && useradd --system --uid 10001 --gid closeloop --home-dir /app --shell /usr/sbin/nologin closeloop
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
# The code stays root's (read-only to the process); only var/ (beat's schedule) is the user's.
RUN mkdir -p /app/var && chown closeloop:closeloop /app/var
WORKDIR /app
USER closeloop
EXPOSE 8000
# Health checks are per process kind (web, worker, beat): compose.yaml defines them.
ENTRYPOINT ["bin/closeloop"]
CMD ["web"]
