"""English words people write in Devanagari, found by either spelling.

स्कूल is read aloud as "skool", not "school": romanizing it does not meet the English word.
This small table names the loanwords of the archive's everyday writing — school, health,
phones and screens, feelings — with the Devanagari spellings people use. A query for the
English word also looks for the Devanagari spellings (and their inflected forms, through
the ``stem`` field), and a query for a Devanagari spelling also looks for the English word.
Spellings with and without nukta or chandrabindu need not be listed: the stem keys make
them one.
"""

from __future__ import annotations

from functools import lru_cache

from archive.search.analyzer import normal_word
from archive.search.stemming import stem

LOANWORDS: dict[str, tuple[str, ...]] = {
    # school and study
    "school": ("स्कूल", "स्कुल"),
    "teacher": ("टीचर",),
    "class": ("क्लास",),
    "college": ("कॉलेज", "कालेज"),
    "exam": ("एग्ज़ाम", "एग्जाम", "इग्ज़ाम"),
    "homework": ("होमवर्क",),
    "tuition": ("ट्यूशन", "ट्युशन"),
    "result": ("रिज़ल्ट", "रिजल्ट"),
    "marks": ("मार्क्स",),
    "hostel": ("हॉस्टल", "होस्टल"),
    # health
    "doctor": ("डॉक्टर", "डाक्टर"),
    "hospital": ("हॉस्पिटल", "अस्पताल"),
    "clinic": ("क्लिनिक",),
    "medicine": ("मेडिसिन",),
    "nurse": ("नर्स",),
    "therapy": ("थेरेपी", "थेरपी"),
    "therapist": ("थेरेपिस्ट", "थेरपिस्ट"),
    "counsellor": ("काउंसलर", "कौन्सिलर", "कौंसलर"),
    "tension": ("टेंशन", "टेन्शन"),
    "stress": ("स्ट्रेस",),
    "depression": ("डिप्रेशन",),
    "anxiety": ("एंग्जायटी", "एंग्ज़ायटी"),
    "panic": ("पैनिक",),
    # phones and screens
    "phone": ("फ़ोन", "फोन"),
    "mobile": ("मोबाइल", "मोबाईल"),
    "tablet": ("टॅबलेट", "टैबलेट", "टेबलेट"),
    "screen": ("स्क्रीन",),
    "charger": ("चार्जर",),
    "internet": ("इंटरनेट", "इन्टरनेट"),
    "online": ("ऑनलाइन", "ऑनलाईन"),
    "video": ("वीडियो", "विडियो", "व्हिडिओ"),
    "message": ("मैसेज", "मेसेज", "मेसेज़"),
    "whatsapp": ("व्हाट्सएप", "व्हॉट्सॲप", "वॉट्सऐप"),
    "game": ("गेम",),
    "reel": ("रील", "रील्स"),
    "youtube": ("यूट्यूब", "युट्युब"),
    "laptop": ("लैपटॉप", "लॅपटॉप"),
    # everyday
    "office": ("ऑफिस", "ऑफ़िस"),
    "sorry": ("सॉरी",),
    "friend": ("फ्रेंड", "फ़्रेंड"),
    "mummy": ("मम्मी",),
}


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """English word as the content field indexes it → Devanagari spellings; a Devanagari
    spelling's stem → the English words."""
    english: dict[str, tuple[str, ...]] = {}
    devanagari: dict[str, list[str]] = {}
    for word, spellings in LOANWORDS.items():
        english[normal_word(word)] = spellings
        for spelling in spellings:
            devanagari.setdefault(stem(spelling), []).append(normal_word(word))
    return english, {key: tuple(words) for key, words in devanagari.items()}


def devanagari_for(word: str) -> tuple[str, ...]:
    """The Devanagari spellings of an English word as the content field indexes it."""
    return _tables()[0].get(word, ())


def english_for(word: str) -> tuple[str, ...]:
    """The English words (as the content field indexes them) of a Devanagari spelling,
    inflected or not (फ़ोन, फोनवर)."""
    return _tables()[1].get(stem(word), ())
