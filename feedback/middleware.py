"""Staff pages in the language each person chose (`User.language`); the APIs in English.

LocaleMiddleware has already activated the browser's language (Accept-Language) by the time this runs; a
signed-in person's own choice wins over it. Customers' pages do not depend on it: they speak the survey's and
the contact's locale (`surveys.wording`), whoever is signed in.
"""

from django.conf import settings
from django.utils import translation

from config.views import API_PREFIXES


class StaffLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIXES):
            # The APIs answer in English whoever calls, a French browser or a French-speaking person's session:
            # scripts read their messages, and the services' checks they share with the console are translated.
            chosen = settings.LANGUAGE_CODE
        else:
            # Anonymous visitors (and API calls without a session) carry no choice and cost no query.
            chosen = getattr(request.user, "language", "") if request.user.is_authenticated else ""
        if chosen:
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        # LocaleMiddleware, outside this one, sets Content-Language from the language active on the way out.
        return self.get_response(request)
