"""Web addresses made from what people write: a collection's title "माँ की रसोई" becomes
``ma-ki-rasoi``. Devanagari is written in Latin letters as it is spoken (the romanization
search uses), everything else folded to lower-case ASCII letters, digits and hyphens; a title
with no such letters gets a short random address instead."""

from __future__ import annotations

import re
import secrets
import unicodedata

from archive.search.analyzer import romanize

LONGEST, SHORTEST = 64, 3
#: a Devanagari word: letters and their signs, without the danda (।) and the digits
DEVANAGARI_WORD = re.compile(r"[\u0900-\u0963\u0971-\u097f]+")
DIGITS = {ord(digit): str(value) for value, digit in enumerate("०१२३४५६७८९")}
CHANDRABINDU = "\u0901"  # माँ: a nasal vowel, not an n (ma, not man)
APOSTROPHES = re.compile(r"['’`]")
#: letters and digits that cannot be mistaken for one another when read aloud or typed
RANDOM_LETTERS = "abcdefghjkmnpqrstuvwxyz23456789"


def letters(text: str, shorten: bool = True) -> str:
    """``text`` as an address part: may be empty or shorter than an address may be;
    longer only when not ``shorten``ed."""
    text = unicodedata.normalize("NFC", text or "").translate(DIGITS)
    text = DEVANAGARI_WORD.sub(lambda word: f" {_spoken(word.group())} ", text)
    text = unicodedata.normalize("NFKD", APOSTROPHES.sub("", text).lower())
    text = "".join(char for char in text if not unicodedata.combining(char))
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return _shortened(slug) if shorten else slug


def _spoken(word: str) -> str:
    return romanize(word.replace(CHANDRABINDU, "")).replace("jn", "gy")  # ज्ञान: gyan


def _shortened(slug: str) -> str:
    if len(slug) <= LONGEST:
        return slug
    cut = slug[: LONGEST + 1]
    return (cut.rsplit("-", 1)[0] if "-" in cut else cut[:LONGEST]).strip("-")


def random_part(length: int) -> str:
    return "".join(secrets.choice(RANDOM_LETTERS) for _ in range(length))


def from_title(title: str) -> str:
    """An address for a new collection: its title's letters, lengthened with a few random
    ones when that is too short, or random when the title has none to give."""
    made = letters(title)
    if len(made) >= SHORTEST:
        return made
    return f"{made}-{random_part(4)}" if made else random_part(8)


def asked_or_made(asked: str, title: str) -> str:
    """What a curator typed as the address, in Latin letters (as typed when it has none, and
    not cut short, so that the operation refuses it), or one made from the title when they
    left it empty."""
    if not (asked or "").strip():
        return from_title(title)
    return letters(asked, shorten=False) or asked.strip()
