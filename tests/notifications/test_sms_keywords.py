import pytest

from notifications.sms_keywords import HELP, START, STOP, sms_keyword, sms_keyword_locale, sms_number


@pytest.mark.parametrize(
    "body",
    ["STOP", "stop", "Stop.", " UNSUBSCRIBE ", "end", "Quit", "STOPALL", "revoke", "OPTOUT", "cancel", "opt-out",
     "please stop texting me", "Please STOP!", "opt out please", "Arrêt"],
)  # fmt: skip
def test_sms_keyword_opt_outs(body):
    assert sms_keyword(body) == STOP


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
                                              ("info", "en"), ("aide moi", "en")])  # fmt: skip
def test_sms_keyword_locale_answers_french_keywords_in_french(body, locale):
    assert sms_keyword_locale(body) == locale
