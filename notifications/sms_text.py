"""Keeps SMS text in the GSM-7 alphabet where a close equivalent exists.

One character outside GSM-7 (a curly quote, a circumflex) turns the whole SMS into UCS-2,
cutting a segment from 160 to 70 characters and multiplying the bill.
"""

# Every character of the GSM 03.38 basic set and its extension table.
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    "^{}\\[~]|€"
)
REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u00a0": " ", "\u202f": " ",
    "â": "a", "ê": "e", "î": "i", "ô": "o", "û": "u", "ë": "e", "ï": "i", "ç": "c",
    "À": "A", "Â": "A", "È": "E", "Ê": "E", "Î": "I", "Ô": "O", "Û": "U", "Ù": "U", "á": "a", "í": "i", "ó": "o",
    "ú": "u",
}  # fmt: skip


def gsm_safe(text: str) -> str:
    """Replace characters that would force UCS-2 by their nearest GSM-7 equivalent; leave others as they are."""
    return "".join(char if char in GSM7 else REPLACEMENTS.get(char, char) for char in text)


def is_gsm7(text: str) -> bool:
    return all(char in GSM7 for char in text)


# Characters of the extension table take two septets (an escape and the character).
GSM7_EXTENSION = set("^{}\\[~]|€")


def sms_segments(text: str) -> tuple[str, int]:
    """The encoding an SMS goes out in (`GSM-7` or `UCS-2`) and how many segments it is billed as: 160 septets
    (or 70 UTF-16 units) in one, 153 (or 67) per segment once it is split."""
    if is_gsm7(text):
        length = sum(2 if char in GSM7_EXTENSION else 1 for char in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        length = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    if length <= single:
        return encoding, 1 if length else 0
    return encoding, -(-length // part)
