"""Staff pages in the language each person chose (`User.language`).

LocaleMiddleware has already activated the browser's language (Accept-Language) by the time this runs; a
signed-in person's own choice wins over it. Customers' pages do not depend on it: they speak the survey's and
the contact's locale (`surveys.wording`), whoever is signed in.
"""

from django.utils import translation


class StaffLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Anonymous visitors (and API calls without a session) carry no choice and cost no query.
        chosen = getattr(request.user, "language", "") if request.user.is_authenticated else ""
        if chosen:
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        # LocaleMiddleware, outside this one, sets Content-Language from the language active on the way out.
        return self.get_response(request)
