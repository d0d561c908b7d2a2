"""Text as people write it: NFC normalisation everywhere, so one word is always one word."""
from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def nfc(value: str | None) -> str:
    """NFC-normalised text with stray control characters removed and line ends unified."""
    if not value:
        return ""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _CONTROL.sub("", value))


def one_line(value: str | None) -> str:
    """A single-line field (a name, a title): NFC, inner whitespace collapsed, trimmed."""
    return " ".join(nfc(value).split())


def key(value: str | None) -> str:
    """The form in which two names count as the same: NFC, trimmed, case-folded."""
    return unicodedata.normalize("NFC", one_line(value).casefold())
