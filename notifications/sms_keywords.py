"""What an inbound SMS says, as far as consent goes: STOP, START, HELP, or a plain reply.

Pure functions over the text, no database: carriers' and Twilio's keyword lists, in any
case and with stray punctuation, plus plain-language opt-outs ("please stop texting me").
"""

import re

STOP = "stop"
START = "start"
HELP = "help"

STOP_WORDS = {"stop", "stopall", "unsubscribe", "end", "quit", "revoke", "optout", "cancel", "arret", "arrêt"}
START_WORDS = {"start", "yes", "unstop"}
HELP_WORDS = {"help", "info", "aide"}
# Keywords only a French speaker sends: the answer to them is in French.
FRENCH_WORDS = {"aide", "arret", "arrêt"}
# Words that, anywhere in a short message, mean "leave me alone" even in a sentence.
OPT_OUT_IN_SENTENCE = {"stop", "unsubscribe", "optout"}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_NUMBER_REPLY = re.compile(r"^\s*(\d{1,2})\s*(?:/\s*\d{1,2})?\s*[.!]*\s*$")


def sms_keyword(body: str) -> str | None:
    """`stop`, `start` or `help` when the message is one of those keywords (or asks to stop), else None."""
    words = [word.casefold() for word in _WORD.findall(body)]
    if not words:
        return None
    if len(words) == 1:
        word = words[0].replace("-", "")
        if word in STOP_WORDS:
            return STOP
        if word in START_WORDS:
            return START
        if word in HELP_WORDS:
            return HELP
        return None
    if "opt" in words and "out" in words:
        return STOP
    return STOP if OPT_OUT_IN_SENTENCE & set(words) else None


def sms_number(body: str) -> int | None:
    """The number a reply consists of ("9", " 10 ", "9/10", "8!"), else None: a sentence is not a score."""
    match = _NUMBER_REPLY.match(body)
    return int(match.group(1)) if match else None


def sms_keyword_locale(body: str) -> str:
    """`fr` when the message is a French keyword ("AIDE", "ARRÊT"), else `en`: the language to answer in."""
    words = [word.casefold() for word in _WORD.findall(body)]
    return "fr" if len(words) == 1 and words[0] in FRENCH_WORDS else "en"
