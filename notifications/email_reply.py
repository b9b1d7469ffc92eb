"""What a customer wrote in an email reply, without the history their mail client quoted or their signature.

Pure functions over plain text (SendGrid Inbound Parse's `text` field), tested in milliseconds.
Knows the attribution lines of the common English and French clients (Gmail, Apple Mail,
Outlook, Thunderbird); anything it does not recognise is kept, since losing a customer's words
is worse than showing a quoted line too many.
"""

import re

# "On Tue, 1 Dec 2026 at 10:02, Ana <ana@example.com> wrote:" (Gmail, Apple Mail, Thunderbird), which
# clients often wrap over two lines; "Le mar. 1 déc. 2026 à 10:02, Ana <ana@example.com> a écrit :" in French.
_ATTRIBUTION = re.compile(
    r"^\s*(on\s.{0,300}?\bwrote\s*:|le\s.{0,300}?\ba\s+écrit\s*:)\s*$",
    re.IGNORECASE | re.DOTALL,
)
# Outlook quotes the whole message under a separator or a header block.
_OUTLOOK_SEPARATOR = re.compile(
    r"^\s*(-{2,}\s*(original message|message d'origine|forwarded message|message transféré)\s*-{2,}"
    r"|_{10,})\s*$",
    re.IGNORECASE,
)
_OUTLOOK_HEADER = re.compile(r"^\s*\*?(from|de|envoyé|sent)\s*\*?\s*:\s*\S", re.IGNORECASE)
# RFC 3676's signature separator is "-- " (dash dash space); many clients trim the space.
_SIGNATURE = re.compile(r"^--\s?$")
# Phone clients' default signatures.
_DEVICE_SIGNATURE = re.compile(
    r"^\s*(sent from my \w+|envoyé de mon \w+|get outlook for \w+|obtenir outlook pour \w+)", re.IGNORECASE
)


def _attribution_starts(lines: list[str], index: int) -> bool:
    """The line at `index` (alone, or joined with the next one, as clients wrap it) says who wrote the quote."""
    line = lines[index]
    if _ATTRIBUTION.match(line):
        return True
    if index + 1 < len(lines) and re.match(r"^\s*(on|le)\s", line, re.IGNORECASE):
        return bool(_ATTRIBUTION.match(line + " " + lines[index + 1]))
    return False


def _outlook_header_block(lines: list[str], index: int) -> bool:
    """A "From: … / Sent: …" block (at least two header lines in a row) begins at `index`."""
    if not _OUTLOOK_HEADER.match(lines[index]):
        return False
    following = lines[index + 1 : index + 4]
    return any(re.match(r"^\s*\*?(sent|date|to|à|envoyé|subject|objet)\s*\*?\s*:", line, re.IGNORECASE)
               for line in following)  # fmt: skip


def reply_text(text: str) -> str:
    """The new part of an email reply: up to the quoted history, the signature, or "> " lines, stripped.

    Falls back to the whole text (stripped) when trimming would leave nothing, so a reply written
    below the quote, or made only of a quote, is never lost.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if (
            _attribution_starts(lines, index)
            or _OUTLOOK_SEPARATOR.match(line)
            or _outlook_header_block(lines, index)
            or _SIGNATURE.match(line)
            or _DEVICE_SIGNATURE.match(line)
        ):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    reply = "\n".join(kept).strip()
    # Blank runs left where quoted lines were removed collapse to one blank line.
    reply = re.sub(r"\n{3,}", "\n\n", reply)
    return reply or text.strip()
