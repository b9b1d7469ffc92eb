"""The floor of bench/server.py: a bare Django project with the application's middleware and database settings,
whose views do the least the application's could (one INSERT per POST, one SELECT per page, COPY per batch)."""

import environ

from config.settings.base import MIDDLEWARE, database_tune  # noqa: F401 (the same middleware, in the same order)

env = environ.Env()
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # AxesMiddleware (in MIDDLEWARE) imports axes' models; it reads nothing from them per request.
    "axes",
]
ROOT_URLCONF = "bench.floor.urls"
DATABASES = {"default": database_tune(env.db("DATABASE_URL"))}
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": False}]
STATIC_URL = "/static/"
STATIC_ROOT = None
USE_TZ = True
LOGGING = {"version": 1, "disable_existing_loggers": False}
