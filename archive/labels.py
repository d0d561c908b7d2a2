"""Words for the archive's enumerated values, in the reader's language: for pages, packs,
receipts and exports alike (the forms offer the same choices)."""

from __future__ import annotations

from typing import Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext, pgettext
from markupsafe import Markup

from archive import access
from archive.media.images import WEBP

KIND_NAMES = {
    "knowhow": _l("Know-how"),
    "poem": _l("Poem"),
    "story": _l("Story"),
    "artwork": _l("Artwork"),
}
LANGUAGE_CHOICES = [
    ("hi", "हिन्दी"),
    ("mr", "मराठी"),
    ("en", "English"),
    ("other", _l("Another language")),
]
CONTENT_NOTE_CHOICES = [
    ("grief", _l("grief and loss")),
    ("self-harm", _l("self-harm")),
    ("suicide", _l("suicide")),
    ("abuse", _l("abuse")),
    ("violence", _l("violence")),
    ("illness", _l("illness or hospital")),
    ("substance-use", _l("alcohol or drugs")),
]
AUDIENCE_CHOICES = [
    ("private", _l("Only me (and, for someone without an account, the circle's facilitators)")),
    ("circle", _l("My circle: the members of this circle")),
    ("public", _l("Everyone: anyone on the internet may read it")),
]
ATTRIBUTION_CHOICES = [
    ("name", _l("With my name")),
    ("pseudonym", _l("With a pseudonym I choose")),
    ("anonymous", _l("Anonymously: no name at all")),
]
METHOD_CHOICES = [
    ("written", _l("They gave written consent")),
    ("verbal", _l("They gave consent aloud, and I am recording it")),
]


def kind_name(kind: str) -> str:
    return str(KIND_NAMES.get(kind, kind))


def language_name(code: str) -> str:
    return str(dict(LANGUAGE_CHOICES).get(code, code))


def state_name(state: str) -> str:
    return {"draft": _("draft"), "circle": _("for the circle"), "public": _("public")}.get(
        state, state
    )


def content_note_names(codes: list[str]) -> str:
    names = dict(CONTENT_NOTE_CHOICES)
    return ", ".join(str(names[code]) for code in codes if code in names)


#: each note alone, as one whole sentence (Hindi and Marathi bend the note inside it)
NOTE_SENTENCES = {
    "grief": _l("Content note: this piece speaks of grief and loss."),
    "self-harm": _l("Content note: this piece speaks of self-harm."),
    "suicide": _l("Content note: this piece speaks of suicide."),
    "abuse": _l("Content note: this piece speaks of abuse."),
    "violence": _l("Content note: this piece speaks of violence."),
    "illness": _l("Content note: this piece speaks of illness or hospital."),
    "substance-use": _l("Content note: this piece speaks of alcohol or drugs."),
}
#: each note as a part of a longer sentence, its "of" with it: "दुख और बिछड़ने की",
#: "दुःख आणि दुराव्याबद्दल" (the form a word takes before की, बद्दल)
NOTES_SPOKEN_OF = {
    "grief": lazy_pgettext("content note", "of grief and loss"),
    "self-harm": lazy_pgettext("content note", "of self-harm"),
    "suicide": lazy_pgettext("content note", "of suicide"),
    "abuse": lazy_pgettext("content note", "of abuse"),
    "violence": lazy_pgettext("content note", "of violence"),
    "illness": lazy_pgettext("content note", "of illness or hospital"),
    "substance-use": lazy_pgettext("content note", "of alcohol or drugs"),
}


def content_note(codes: list[str]) -> str:
    """The one sentence that names a piece's content notes, wherever it is met: a whole
    sentence for one note; for several, each note with its own "of" ("… की, … की और … की
    बात है"), so every combination reads as a sentence in each language."""
    known = [code for code in codes if code in NOTE_SENTENCES]
    if not known:  # a note this version does not know (a newer one's, from a backup)
        return _("Content note: take care before reading this piece.")
    if len(known) == 1:
        return str(NOTE_SENTENCES[known[0]])
    parts = [str(NOTES_SPOKEN_OF[code]) for code in known]
    listed = pgettext(
        "content notes", "%(notes)s and %(last)s", notes=", ".join(parts[:-1]), last=parts[-1]
    )
    # Translators: %(notes)s is a list of notes, each with its "of" (की, बद्दल)
    return _("Content note: this piece speaks %(notes)s.", notes=listed)


def audience_name(audience: str) -> str:
    return str(dict(AUDIENCE_CHOICES).get(audience, audience))


def audience_label(item, viewer, *, everyone: bool = False) -> Optional[str]:
    """Who may see a piece now, in a few words, read from its consent: a passed review date
    counts as private, and a proposal is its member's alone until they agree. None for a
    public piece unless ``everyone`` (lists label only what not everyone may read)."""
    if item.state == "proposed":
        return _("Only you")
    audience = access.effective_audience(item.consent)
    if audience == "public":
        return _("Everyone") if everyone else None
    if audience == "circle":
        return _("Only the circle")
    if access.is_contributor(viewer, item):
        return _("Only you")
    return _("Only you and the facilitators")  # a piece they keep for someone with no account


def method_name(method: str) -> str:
    if method == "self":
        return _("Given by the author, signed in")
    return str(dict(METHOD_CHOICES).get(method, method))


def attribution_name(consent) -> str:
    if consent.attribution == "pseudonym":
        return _("As “%(name)s”", name=consent.pseudonym)
    return str(dict(ATTRIBUTION_CHOICES).get(consent.attribution, consent.attribution))


def ledger_event_name(event: str) -> str:
    return {
        "granted": _("consent given"),
        "changed": _("consent changed"),
        "confirmed": _("consent confirmed again"),
        "withdrawn": _("taken back and erased"),
        "proposed": _("recorded by a facilitator, waiting for the contributor"),
        "agreed": _("the contributor agreed to share it"),
        "declined": _("the contributor declined; erased"),
    }.get(event, event)


def content_lang(language: str, always: bool = False) -> Markup:
    """``lang`` (and ``dir``) for what someone wrote: its own language where it is not the
    page's; a language the archive does not name is marked unknown, its direction taken from
    the text itself."""
    from flask_babel import get_locale

    from archive.extensions import LOCALES

    if language not in LOCALES:
        return Markup(' lang="" dir="auto"')
    if always or language != str(get_locale() or "en"):
        return Markup(' lang="{}"').format(language)
    return Markup("")


def _by_width(derivatives: dict) -> list[tuple[str, dict]]:
    """The WebP sizes a page chooses from, smallest first (never the JPEG link preview)."""
    return sorted(
        (
            (name, entry)
            for name, entry in derivatives.items()
            if entry.get("content_type", WEBP) == WEBP
        ),
        key=lambda pair: pair[1]["width"],
    )


def largest(derivatives: dict) -> str:
    return _by_width(derivatives)[-1][0]


def srcset(asset) -> Markup:
    from flask import url_for

    return Markup(", ").join(
        Markup("{} {}w").format(
            url_for("items.media", asset_id=asset.public_id, name=name), entry["width"]
        )
        for name, entry in _by_width(asset.derivatives)
    )


HELPERS = {
    "kind_name": kind_name,
    "language_name": language_name,
    "state_name": state_name,
    "content_note_names": content_note_names,
    "audience_name": audience_name,
    "audience_label": audience_label,
    "method_name": method_name,
    "attribution_name": attribution_name,
    "largest": largest,
    "srcset": srcset,
    "byline": access.byline,
    "content_lang": content_lang,
    "ledger_event_name": ledger_event_name,
    "content_note": content_note,
    "noted": access.noted,
}
