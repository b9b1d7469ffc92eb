import pytest

from notifications.sms_keywords import HELP, START, STOP, sms_keyword, sms_keyword_locale, sms_number


@pytest.mark.parametrize(
    "body",
    ["STOP", "stop", "Stop.", " UNSUBSCRIBE ", "end", "Quit", "STOPALL", "revoke", "OPTOUT", "cancel", "opt-out",
     "please stop texting me", "Please STOP!", "opt out please", "Arrêt"],
)  # fmt: skip
def test_sms_keyword_opt_outs(body):
    assert sms_keyword(body) == STOP


# Plain-language opt-outs customers actually send, in English and French (accents, apostrophes, case as typed).
OPT_OUT_SENTENCES = [
    "don't text me", "Don’t text me again", "do not text me", "dont text me anymore", "Remove me",
    "remove me from your list please", "take me off this list", "unsubscribe me", "No more texts",
    "leave me alone", "Opt me out", "stop messaging me", "never text me again", "do not contact me",
    "arrêtez", "Arrêtez !", "ARRETEZ", "arrête", "désabonner", "ne plus m'envoyer de messages",
    "Merci de ne plus m’envoyer de SMS", "ne m'envoyez plus rien", "je ne veux plus recevoir vos sms",
    "retirez-moi de la liste", "supprimez-moi", "laissez-moi tranquille", "plus de SMS svp",
    "me désinscrire", "arrêtez de m'envoyer des messages", "ne me contactez plus",
]  # fmt: skip


@pytest.mark.parametrize("body", OPT_OUT_SENTENCES)
def test_sms_keyword_plain_language_opt_outs_in_english_and_french(body):
    assert sms_keyword(body) == STOP


@pytest.mark.parametrize(
    "body",
    ["the driver did remember me", "please remove the fee", "I would text my friends about it", "ça arrive",
     "je veux plus de choix", "more messages like this one would be nice", "it took me a while to open it"],
)  # fmt: skip
def test_sms_keyword_sentences_that_only_resemble_an_opt_out_stay_comments(body):
    assert sms_keyword(body) is None


@pytest.mark.parametrize("body", ["START", "yes", "Unstop", "start!"])
def test_sms_keyword_opt_ins(body):
    assert sms_keyword(body) == START


@pytest.mark.parametrize("body", ["HELP", "help?", "info", "Aide"])
def test_sms_keyword_help(body):
    assert sms_keyword(body) == HELP


@pytest.mark.parametrize(
    "body", ["9", "the delivery was late", "", "   ", "yes it was great", "I'll end up buying again"]
)
def test_sms_keyword_plain_replies(body):
    assert sms_keyword(body) is None


@pytest.mark.parametrize(("body", "number"), [("9", 9), (" 10 ", 10), ("9/10", 9), ("8!", 8), ("0", 0), ("7.", 7)])
def test_sms_number_reads_a_bare_number(body, number):
    assert sms_number(body) == number


@pytest.mark.parametrize("body", ["", "nine", "9 because it was late", "123", "9.5", "-1"])
def test_sms_number_ignores_sentences(body):
    assert sms_number(body) is None


@pytest.mark.parametrize(("body", "locale"), [("AIDE", "fr"), ("aide!", "fr"), ("Arrêt", "fr"), ("HELP", "en"),
                                              ("info", "en"), ("aide moi", "en"), ("Arrêtez", "fr"),
                                              ("désabonner", "fr")])  # fmt: skip
def test_sms_keyword_locale_answers_french_keywords_in_french(body, locale):
    assert sms_keyword_locale(body) == locale
