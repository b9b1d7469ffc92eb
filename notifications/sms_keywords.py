"""What an inbound SMS says, as far as consent goes: STOP, START, HELP, or a plain reply.

Pure functions over the text, no database: carriers' and Twilio's keyword lists, in any
case and with stray punctuation, plus plain-language opt-outs in English and French ("please
stop texting me", "don't text me", "remove me", "arrêtez", "ne plus m'envoyer"). A phrase is
matched on whole words with accents, apostrophes and case folded, so "Arrêtez !" and
"arretez" are one reply; a sentence that merely contains "end" or "stop" in another sense
("I'll end up buying again") stays a comment.
"""

import re
import unicodedata

STOP = "stop"
START = "start"
HELP = "help"

STOP_WORDS = {
    "stop", "stopall", "unsubscribe", "end", "quit", "revoke", "optout", "cancel",
    # French carriers' and customers' one-word opt-outs.
    "arret", "arrete", "arretez", "desabonner", "desinscrire", "desinscription", "desabonnement",
}  # fmt: skip
START_WORDS = {"start", "yes", "unstop"}
HELP_WORDS = {"help", "info", "aide"}
# Keywords only a French speaker sends: the answer to them is in French.
FRENCH_WORDS = {"aide", "arret", "arrete", "arretez", "desabonner", "desinscrire", "desinscription", "desabonnement"}
# Words that, anywhere in a message, mean "leave me alone" even in a sentence ("Please STOP!").
OPT_OUT_IN_SENTENCE = {"stop", "unsubscribe", "optout", "stopall", "arretez", "desabonner", "desinscrire"}
# Plain-language opt-outs, as word sequences after folding (see `_words`); any of them anywhere is a STOP.
OPT_OUT_PHRASES = [
    # English
    "opt out", "opt me out", "dont text me", "do not text me", "don t text me", "stop texting",
    "stop messaging", "stop sending", "stop contacting", "no more texts", "no more messages", "no more sms",
    "remove me", "take me off", "unsubscribe me", "do not contact me", "dont contact me", "leave me alone",
    "never text me", "never message me",
    # French
    "ne plus m envoyer", "ne m envoyez plus", "ne plus recevoir", "ne plus me contacter", "ne me contactez plus",
    "ne m ecrivez plus", "plus de sms", "plus de messages", "arretez de m envoyer", "arreter les sms",
    "arretez les sms", "me desabonner", "me desinscrire", "retirez moi", "supprimez moi", "enlevez moi",
    "laissez moi tranquille", "je ne veux plus",
]  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_NUMBER_REPLY = re.compile(r"^\s*(\d{1,2})\s*(?:/\s*\d{1,2})?\s*[.!]*\s*$")


def _words(body: str) -> list[str]:
    """Lower-case words without accents: "Arrêtez de m’envoyer" -> ["arretez", "de", "m", "envoyer"]."""
    folded = unicodedata.normalize("NFKD", body.casefold())
    folded = "".join(char for char in folded if not unicodedata.combining(char))
    return _WORD.findall(folded)


_PHRASES = [phrase.split() for phrase in OPT_OUT_PHRASES]


def _contains(words: list[str], phrase: list[str]) -> bool:
    size = len(phrase)
    return any(words[start : start + size] == phrase for start in range(len(words) - size + 1))


def sms_keyword(body: str) -> str | None:
    """`stop`, `start` or `help` when the message is one of those keywords (or asks to stop), else None."""
    words = _words(body)
    if not words:
        return None
    if len(words) == 1 or (len(words) == 2 and words[0] in ("opt", "stop") and words[1] in ("out", "all")):
        word = "".join(words).replace("-", "")
        if word in STOP_WORDS:
            return STOP
        if word in START_WORDS:
            return START
        if word in HELP_WORDS:
            return HELP
    if OPT_OUT_IN_SENTENCE & set(words):
        return STOP
    return STOP if any(_contains(words, phrase) for phrase in _PHRASES) else None


def sms_number(body: str) -> int | None:
    """The number a reply consists of ("9", " 10 ", "9/10", "8!"), else None: a sentence is not a score."""
    match = _NUMBER_REPLY.match(body)
    return int(match.group(1)) if match else None


def sms_keyword_locale(body: str) -> str:
    """`fr` when the message is a French keyword ("AIDE", "ARRÊT"), else `en`: the language to answer in."""
    words = _words(body)
    return "fr" if len(words) == 1 and words[0] in FRENCH_WORDS else "en"
