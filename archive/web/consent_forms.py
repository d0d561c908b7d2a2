"""Forms for changing consent, confirming it after a review date, and withdrawing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, RadioField, StringField, SubmitField
from wtforms.validators import Optional

from archive.labels import ATTRIBUTION_CHOICES, AUDIENCE_CHOICES, CONTENT_NOTE_CHOICES
from archive.web.forms import CheckboxList, Form, at_most, options, required

REASON_CHOICES = [
    ("in-person", _l("They asked me in person")),
    ("phone-or-message", _l("They asked me by phone or message")),
    ("in-writing", _l("They asked me in writing")),
]


class ConsentForm(Form):
    audience = RadioField(_l("Who may see it?"), choices=options(*AUDIENCE_CHOICES))
    attribution = RadioField(_l("How should it be signed?"), choices=options(*ATTRIBUTION_CHOICES))
    pseudonym = StringField(_l("Pseudonym to show"), [at_most(80)])
    collections = BooleanField(_l("It may be part of collections the circle makes"))
    embeds = BooleanField(_l("Advocates may quote it or show it on their own websites"))
    packs = BooleanField(_l("It may go into offline packs (a zip people keep on their phones)"))
    content_notes = CheckboxList(
        _l("Content notes (optional)"), choices=options(*CONTENT_NOTE_CHOICES)
    )
    review_by = DateField(
        _l("Ask me again on (optional)"),
        [Optional()],
        description=_l("Leave it empty for no review date."),
    )
    reason = RadioField(
        _l("How did they ask for this change?"),
        choices=options(*REASON_CHOICES),
        validators=[Optional()],
    )
    submit = SubmitField(_l("Save my choices"))


class ConfirmForm(Form):
    review_by = DateField(_l("Ask again on (optional)"), [Optional()])
    submit = SubmitField(_l("Yes, keep sharing it this way"))


class WithdrawForm(Form):
    reason = RadioField(
        _l("How did they ask for this?"), choices=options(*REASON_CHOICES), validators=[Optional()]
    )
    sure = BooleanField(
        _l("I understand: it will be erased everywhere, and this cannot be undone."), [required()]
    )
    submit = SubmitField(_l("Take it back now"))


class CodeForm(Form):
    code = StringField(
        _l("Withdrawal code from the receipt"),
        [required(), at_most(64)],
        description=_l("Like 7K2M-… : 20 letters and digits. Spaces and small letters are fine."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Continue"))


class CodeConfirmForm(Form):
    code = StringField(render_kw={"type": "hidden"})
    submit = SubmitField(_l("Erase it everywhere"))


def form_values(consent):
    """A consent as the values its form starts from."""

    class Values:
        audience, attribution = consent.audience, consent.attribution
        pseudonym, review_by = consent.pseudonym, consent.review_by
        collections, embeds, packs = (
            consent.allow_collections,
            consent.allow_embeds,
            consent.allow_packs,
        )
        content_notes = consent.content_notes

    return Values


class AgreeForm(ConsentForm):
    """A member agreeing to a piece a facilitator recorded for them, as proposed or changed."""

    reason = None  # type: ignore[assignment]  # WTForms drops an inherited field set to None
    form_token = HiddenField()
    submit = SubmitField(_l("Yes, share it like this"))


class DeclineForm(Form):
    submit = SubmitField(_l("No, erase it"))
