import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()

# Load every URLconf, view, serializer and template tag now rather than on each worker's first requests:
# under gunicorn (preload_app) the master does it once, the workers share it, and the first request a
# worker serves does not pay seconds of imports.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018

# Everything loaded so far (Django, the URLconf, models, settings) lives as long as the process.
# Freezing it spares every later collection from walking it: a batch of events makes tens of
# thousands of objects, and full collections over the startup heap were a tenth of its time.
gc.freeze()
