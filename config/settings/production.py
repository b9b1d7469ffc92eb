"""Production: refuses to start without its secrets; providers are chosen by their credentials."""

from config.settings.base import *  # noqa: F403
from config.settings.base import MIDDLEWARE, database_replica_add, database_tune, env
from config.settings.secrets import production_secret_key

SECRET_KEY = production_secret_key(env.str("DJANGO_SECRET_KEY"))
DATABASES = {"default": database_tune(env.db("DATABASE_URL"))}
DATABASE_ROUTERS = database_replica_add(DATABASES, MIDDLEWARE)
SITE_URL = env.str("SITE_URL").rstrip("/")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = [SITE_URL]
DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = SITE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if SITE_URL.startswith("https://"):
    # Browsers come back over https only; plain http is redirected, except the probes a load balancer
    # sends to the process itself.
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Submitting a domain to browsers' preload lists binds every host under it: the owner's decision
        # (SECURE_HSTS_PRELOAD=true), not a default; the rest of --deploy stays clean.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Static files: hashed names (cache-busting, cached for a year by browsers) and gzip/brotli copies, made by
# `collectstatic` (bin/closeloop web, or the image's build) and served by WhiteNoise.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
