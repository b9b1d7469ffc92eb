"""Recipient-facing wording of `notifications` itself (the unsubscribe page, the SMS HELP answer), per locale.

Survey wording lives in `surveys/wording.py`; `notifications` may not import `surveys`, so the few
words it says on its own live here, each in one place and in every shipped language.
"""

DEFAULT_LOCALE = "en"

WORDING: dict[str, dict[str, str]] = {
    "en": {
        "unsubscribe_title": "Unsubscribe",
        "unsubscribe_confirm": "Stop receiving these surveys at this address?",
        "unsubscribe_button": "Unsubscribe",
        "unsubscribe_done": "You are unsubscribed. You will not receive these surveys any more.",
        "unsubscribe_not_found": "This unsubscribe link is not valid.",
        "sms_help": "Closeloop surveys: reply with a number to answer. Reply STOP to opt out.",
    },
    "fr": {
        "unsubscribe_title": "Désinscription",
        "unsubscribe_confirm": "Ne plus recevoir ces questionnaires à cette adresse ?",
        "unsubscribe_button": "Me désinscrire",
        "unsubscribe_done": "Vous êtes désinscrit. Vous ne recevrez plus ces questionnaires.",
        "unsubscribe_not_found": "Ce lien de désinscription n'est pas valide.",
        "sms_help": (
            "Questionnaires Closeloop : répondez par un chiffre pour donner votre note. STOP pour ne plus recevoir."
        ),
    },
}


def wording(locale: str | None) -> dict[str, str]:
    """The words of a locale (`fr-CA` → `fr`), English when it is not shipped."""
    language = (locale or "").split("-")[0].split("_")[0].lower()
    return WORDING.get(language, WORDING[DEFAULT_LOCALE])
