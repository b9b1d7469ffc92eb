"""Production: refuses to start without its secrets; providers are chosen by their credentials."""

from config.settings.base import *  # noqa: F403
from config.settings.base import MIDDLEWARE, database_replica_add, database_tune, env

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
DATABASES = {"default": database_tune(env.db("DATABASE_URL"))}
DATABASE_ROUTERS = database_replica_add(DATABASES, MIDDLEWARE)
SITE_URL = env.str("SITE_URL").rstrip("/")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = [SITE_URL]
DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = SITE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Static files: hashed names (cache-busting, cached for a year by browsers) and gzip/brotli copies, made by
# `collectstatic` (bin/closeloop web, or the image's build) and served by WhiteNoise.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
