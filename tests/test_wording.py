"""How the site reads to someone on a phone in Hindi or Marathi: content notes as whole,
grammatical sentences; every count with its singular and plural; the site's own name kept
apart from the word for a collection; a collection's web address made from its title, with
no talk of "English letters" or "Markdown"."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po
from flask import render_template_string
from flask_babel import ngettext

from archive import slugs
from archive.labels import CONTENT_NOTE_CHOICES, content_note
from archive.models import Collection
from archive.operations.collections import SLUG
from tests.collections_helpers import count
from tests.items_helpers import circle_people  # noqa: F401
from tests.test_translations import LOCALES, TRANSLATIONS, extract


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """An app for its catalogs and templates alone: nothing is stored."""
    from archive import create_app
    from tests.conftest import config_for_tests

    return create_app(config_for_tests(tmp_path_factory.mktemp("wording")))


def said(site, locale: str, make, *args):
    with site.test_request_context(headers={"Accept-Language": locale}):
        return make(*args)


def catalog(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=locale, ignore_obsolete=True)


# --- content notes --------------------------------------------------------------------------

NOTES = {  # each note alone: English, Hindi, Marathi
    "grief": (
        "Content note: this piece speaks of grief and loss.",
        "ध्यान दें: इस रचना में दुख और बिछड़ने की बात है।",
        "लक्ष द्या: ही रचना दुःख आणि दुराव्याबद्दल बोलते.",
    ),
    "self-harm": (
        "Content note: this piece speaks of self-harm.",
        "ध्यान दें: इस रचना में ख़ुद को चोट पहुँचाने की बात है।",
        "लक्ष द्या: ही रचना स्वतःला इजा करण्याबद्दल बोलते.",
    ),
    "suicide": (
        "Content note: this piece speaks of suicide.",
        "ध्यान दें: इस रचना में आत्महत्या की बात है।",
        "लक्ष द्या: ही रचना आत्महत्येबद्दल बोलते.",
    ),
    "abuse": (
        "Content note: this piece speaks of abuse.",
        "ध्यान दें: इस रचना में दुर्व्यवहार की बात है।",
        "लक्ष द्या: ही रचना अत्याचाराबद्दल बोलते.",
    ),
    "violence": (
        "Content note: this piece speaks of violence.",
        "ध्यान दें: इस रचना में हिंसा की बात है।",
        "लक्ष द्या: ही रचना हिंसेबद्दल बोलते.",
    ),
    "illness": (
        "Content note: this piece speaks of illness or hospital.",
        "ध्यान दें: इस रचना में बीमारी या अस्पताल की बात है।",
        "लक्ष द्या: ही रचना आजारपण किंवा दवाखान्याबद्दल बोलते.",
    ),
    "substance-use": (
        "Content note: this piece speaks of alcohol or drugs.",
        "ध्यान दें: इस रचना में शराब या नशे की बात है।",
        "लक्ष द्या: ही रचना दारू किंवा नशेबद्दल बोलते.",
    ),
}

COMBINATIONS = [
    (
        ["grief", "suicide"],
        "Content note: this piece speaks of grief and loss and of suicide.",
        "ध्यान दें: इस रचना में दुख और बिछड़ने की और आत्महत्या की बात है।",
        "लक्ष द्या: ही रचना दुःख आणि दुराव्याबद्दल आणि आत्महत्येबद्दल बोलते.",
    ),
    (
        ["self-harm", "suicide", "violence"],
        "Content note: this piece speaks of self-harm, of suicide and of violence.",
        "ध्यान दें: इस रचना में ख़ुद को चोट पहुँचाने की, आत्महत्या की और हिंसा की बात है।",
        "लक्ष द्या: ही रचना स्वतःला इजा करण्याबद्दल, आत्महत्येबद्दल आणि हिंसेबद्दल बोलते.",
    ),
    (
        ["illness", "substance-use"],
        "Content note: this piece speaks of illness or hospital and of alcohol or drugs.",
        "ध्यान दें: इस रचना में बीमारी या अस्पताल की और शराब या नशे की बात है।",
        "लक्ष द्या: ही रचना आजारपण किंवा दवाखान्याबद्दल आणि दारू किंवा नशेबद्दल बोलते.",
    ),
    (
        ["abuse", "a-note-from-a-newer-version", "grief"],
        "Content note: this piece speaks of abuse and of grief and loss.",
        "ध्यान दें: इस रचना में दुर्व्यवहार की और दुख और बिछड़ने की बात है।",
        "लक्ष द्या: ही रचना अत्याचाराबद्दल आणि दुःख आणि दुराव्याबद्दल बोलते.",
    ),
]


def test_every_note_of_the_form_has_its_sentences():
    assert set(NOTES) == {code for code, _label in CONTENT_NOTE_CHOICES}


@pytest.mark.parametrize("code", NOTES)
def test_each_note_alone_is_a_whole_sentence(site, code):
    for locale, expected in zip(("en", "hi", "mr"), NOTES[code], strict=True):
        assert said(site, locale, content_note, [code]) == expected, locale


@pytest.mark.parametrize("codes, en, hi, mr", COMBINATIONS)
def test_several_notes_make_one_grammatical_sentence(site, codes, en, hi, mr):
    for locale, expected in (("en", en), ("hi", hi), ("mr", mr)):
        assert said(site, locale, content_note, codes) == expected, locale


def test_a_note_this_version_does_not_know_still_asks_for_care(site):
    assert said(site, "en", content_note, ["a-note-from-a-newer-version"]) == (
        "Content note: take care before reading this piece."
    )
    assert said(site, "hi", content_note, ["a-note-from-a-newer-version"]) == (
        "ध्यान दें: इस रचना को पढ़ने से पहले अपना ध्यान रखें।"
    )


def test_templates_show_the_same_sentence(site):
    with site.test_request_context(headers={"Accept-Language": "mr"}):
        shown = render_template_string("{{ content_note(notes) }}", notes=["grief", "suicide"])
    assert shown == COMBINATIONS[0][3]


# --- the site and its collections -----------------------------------------------------------

SITE = re.compile(r"Living Archive|\bthe archive\b")


@pytest.mark.parametrize("locale", LOCALES)
def test_the_site_and_a_collection_have_words_of_their_own(locale):
    found = catalog(locale)
    site_name = found.get("Living Archive").string
    collection = found.get("Collection").string
    site_word = site_name.split()[-1]  # "जीवंत अभिलेख": the noun that says "archive"
    assert site_word != collection and collection not in site_name
    assert found.get("Collections").string.startswith(collection)
    for message in found:
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = [message.string] if isinstance(message.string, str) else message.string
        if not msgid or not any(strings):
            continue
        for string in strings:
            if SITE.search(msgid):
                assert site_word in string and collection not in string, msgid
            if "collection" in msgid.lower():
                assert site_word not in string, msgid


# --- counts ---------------------------------------------------------------------------------

#: numbers that name a version or a page: "version 1", not "one version"
ORDINALS = {
    "Version %(n)d",
    "Version %(n)d is back, saved as a new version.",
    "Saved meanwhile: version %(n)d",
    "brought back from version %(n)d",
    "Changes from version %(a)d to %(b)d",
    "Page %(n)d of %(total)d",
    "You are reading version %(n)d of %(total)d, from %(date)s.",
}
COUNT = re.compile(r"%\((?:n|num|count|total)\)[ds]")


def test_every_counted_message_has_plural_forms():
    plain = sorted(
        f"{where}: {key[1]!r}"
        for key, (message, where) in extract().items()
        if not isinstance(message, tuple) and COUNT.search(key[1]) and key[1] not in ORDINALS
    )
    assert not plain, "counted with _() instead of ngettext:\n" + "\n".join(plain)


PLURALS = [  # (singular, plural), then hi and mr for 1 and for 3
    (
        ("Please keep this under %(num)d character.", "Please keep this under %(num)d characters."),
        ("कृपया इसे 1 अक्षर से कम रखें।", "कृपया इसे 3 अक्षरों से कम रखें।"),
        ("कृपया हे 1 अक्षरापेक्षा कमी ठेवा.", "कृपया हे 3 अक्षरांपेक्षा कमी ठेवा."),
    ),
    (
        (
            "Please use at least %(num)d character for your password.",
            "Please use at least %(num)d characters for your password.",
        ),
        ("कृपया पासवर्ड में कम से कम 1 अक्षर रखें।", "कृपया पासवर्ड में कम से कम 3 अक्षर रखें।"),
        ("कृपया पासवर्डमध्ये किमान 1 अक्षर ठेवा.", "कृपया पासवर्डमध्ये किमान 3 अक्षरे ठेवा."),
    ),
    (
        (
            "Please keep the title under %(num)d character.",
            "Please keep the title under %(num)d characters.",
        ),
        ("कृपया शीर्षक 1 अक्षर से कम रखें।", "कृपया शीर्षक 3 अक्षरों से कम रखें।"),
        ("कृपया शीर्षक 1 अक्षरापेक्षा कमी ठेवा.", "कृपया शीर्षक 3 अक्षरांपेक्षा कमी ठेवा."),
    ),
    (
        (
            "%(num)d piece will be left out of a share link.",
            "%(num)d pieces will be left out of a share link.",
        ),
        ("शेयर लिंक में 1 रचना नहीं दिखेगी।", "शेयर लिंक में 3 रचनाएँ नहीं दिखेंगी।"),
        ("शेअर लिंकमध्ये 1 रचना दिसणार नाही.", "शेअर लिंकमध्ये 3 रचना दिसणार नाहीत."),
    ),
]


@pytest.mark.parametrize("message, hi, mr", PLURALS, ids=lambda m: str(m)[:30])
def test_a_count_of_one_and_of_three_read_right(site, message, hi, mr):
    for locale, expected in (("hi", hi), ("mr", mr)):
        got = tuple(said(site, locale, ngettext, *message, n) for n in (1, 3))
        assert got == expected, locale


# --- web addresses and help texts -----------------------------------------------------------


@pytest.mark.parametrize(
    "title, slug",
    [
        ("माँ की रसोई", "ma-ki-rasoi"),
        ("आईची शाळा", "aichi-shala"),
        ("Screen time: know-hows!", "screen-time-know-hows"),
        ("Mother’s kitchen", "mothers-kitchen"),
        ("Café, चाय और २०२४", "cafe-chay-aur-2024"),
    ],
)
def test_a_web_address_is_made_from_the_title(title, slug):
    assert slugs.from_title(title) == slug


@pytest.mark.parametrize("title", ["", "!!! ???", "அம்மாவின் சமையல்", "।।"])
def test_a_title_without_usable_letters_gets_a_short_random_address(title):
    made = {slugs.from_title(title) for _ in range(3)}
    assert len(made) == 3 and all(SLUG.match(slug) and len(slug) <= 12 for slug in made)


def test_a_very_short_or_very_long_title_still_makes_a_good_address():
    assert re.fullmatch(r"ma-[a-z0-9]{4}", slugs.from_title("माँ"))
    long = slugs.from_title("यादें " * 40)
    assert SLUG.match(long) and len(long) <= 64 and long.endswith("yaden")


@pytest.mark.parametrize("locale", LOCALES)
def test_no_message_asks_for_english_letters_or_markdown(locale):
    #: a search hint: Hindi words may be typed in Latin letters, said as people say it
    typing_hint = "Hindi and Marathi words can be typed in Latin letters too, e.g. udasi for उदासी."
    for message in catalog(locale):
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        if not msgid:
            continue
        shown = " ".join(
            [msgid, *([message.string] if isinstance(message.string, str) else message.string)]
        )
        assert "markdown" not in shown.lower(), msgid
        if msgid != typing_hint:
            assert not re.search(r"English letters|अंग्रेज़ी अक्षर|इंग्रजी अक्षर", shown), msgid


@pytest.fixture
def curator(circle_people, signed_in):
    return signed_in(circle_people["meera"])


def make(curator, title, slug=""):
    return curator.post_form("/circles/ghar/collections/new", {"title": title, "slug": slug})


def test_a_facilitator_gets_an_address_made_from_the_title(app, curator):
    response = make(curator, "माँ की रसोई")
    assert response.headers["Location"].endswith("/collections/ma-ki-rasoi")
    response = make(curator, "रसोई की बातें", slug="हमारी रसोई")
    assert response.headers["Location"].endswith("/collections/hamari-rasoi")
    response = make(curator, "Our kitchen", slug="our-kitchen")
    assert response.headers["Location"].endswith("/collections/our-kitchen")


def test_a_taken_address_shows_the_one_made_so_it_can_be_changed(app, curator):
    make(curator, "माँ की रसोई")
    response = make(curator, "माँ की रसोई")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Please choose another web address for this collection." in html
    assert re.search(
        r'name="slug"[^>]*value="ma-ki-rasoi"|value="ma-ki-rasoi"[^>]*name="slug"', html
    )
    assert make(curator, "माँ की रसोई", slug="ma-ki-rasoi-2").status_code == 302
    assert count(Collection) == 2


@pytest.mark.parametrize("locale", ["en", *LOCALES])
def test_the_new_collection_form_speaks_plainly(app, curator, locale):
    html = curator.get(
        "/circles/ghar/collections/new", headers={"Accept-Language": locale}
    ).get_data(as_text=True)
    for word in ("Markdown", "English letters", "अंग्रेज़ी", "इंग्रजी", "Small letters"):
        assert word not in html, word
    assert "**" in html and ("ma-ki-rasoi" in html or "aichi-shala" in html)
