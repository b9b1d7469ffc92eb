import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()

# Everything loaded so far (Django, the URLconf, models, settings) lives as long as the process.
# Freezing it spares every later collection from walking it: a batch of events makes tens of
# thousands of objects, and full collections over the startup heap were a tenth of its time.
gc.freeze()
