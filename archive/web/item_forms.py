"""Forms for contributing and editing items, and the consent that comes with them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Optional

from archive.labels import (
    ATTRIBUTION_CHOICES,
    AUDIENCE_CHOICES,
    CONTENT_NOTE_CHOICES,
    LANGUAGE_CHOICES,
    METHOD_CHOICES,
)
from archive.web.forms import CheckboxList, Form, at_most, options, required

KIND_CHOICES = [
    ("knowhow", _l("A know-how: something that helped")),
    ("poem", _l("A poem")),
    ("story", _l("A story")),
    ("artwork", _l("Artwork: a photo of something made")),
]


class _Content(Form):
    title = StringField(_l("Title"), [required(), at_most(200)])
    body = TextAreaField(
        _l("Your words"),
        [at_most(50_000)],
        description=_l(
            "Line breaks are kept, so a poem stays as you wrote it. A blank line "
            "starts a new verse or paragraph. *stars* make italics."
        ),
        render_kw={"rows": 12, "dir": "auto"},
    )
    language = SelectField(_l("Written in"), choices=options(*LANGUAGE_CHOICES), default="hi")
    tags = StringField(
        _l("Tags (optional)"),
        [at_most(600)],
        description=_l(
            "A few words that help others find it, separated by commas, e.g. sleep, school, उम्मीद."
        ),
    )
    image = FileField(
        _l("Photo of the artwork"),
        description=_l(
            "JPEG, PNG, WebP or HEIC from your phone, up to 20 MB. "
            "Location and camera details are removed."
        ),
        render_kw={"accept": "image/jpeg,image/png,image/webp,image/heic,image/heif"},
    )
    alt_text = TextAreaField(
        _l("Describe the artwork for someone who cannot see it"),
        [at_most(1000)],
        description=_l("One or two sentences, in the same language as the piece."),
        render_kw={"rows": 3},
    )
    #: the photo this session sent before, kept while the rest is fixed (`photo_drafts`)
    photo_draft = HiddenField()


class ContributeForm(_Content):
    #: the form's one-time token: sent again, it leads to the first send's receipt (`once`)
    form_token = HiddenField()
    kind = RadioField(
        _l("What are you sharing?"), choices=options(*KIND_CHOICES), default="knowhow"
    )
    # "me" when the field is not on the page at all (it is shown only to facilitators)
    contributor = SelectField(
        _l("Whose piece is this?"), choices=[], default="me", validate_choice=True
    )
    new_pseudonym = StringField(
        _l("Pseudonym for someone without an account"),
        [at_most(80)],
        description=_l("Only needed when you choose “Someone without an account”."),
    )
    method = RadioField(
        _l("How did they give consent?"), choices=options(*METHOD_CHOICES), validators=[Optional()]
    )
    content_notes = CheckboxList(
        _l("Content notes (optional)"),
        choices=options(*CONTENT_NOTE_CHOICES),
        description=_l("Readers see these first and choose whether to open the piece."),
    )
    audience = RadioField(
        _l("Who may see it?"), choices=options(*AUDIENCE_CHOICES), default="circle"
    )
    attribution = RadioField(
        _l("How should it be signed?"), choices=options(*ATTRIBUTION_CHOICES), default="name"
    )
    pseudonym = StringField(_l("Pseudonym to show"), [at_most(80)])
    collections = BooleanField(_l("It may be part of collections the circle makes"))
    embeds = BooleanField(_l("Advocates may quote it or show it on their own websites"))
    packs = BooleanField(_l("It may go into offline packs (a zip people keep on their phones)"))
    review_by = DateField(
        _l("Ask me again on (optional)"),
        [Optional()],
        description=_l("On this date it becomes private until it is confirmed again."),
    )
    submit = SubmitField(_l("Share it"))


class EditForm(_Content):
    #: the revision the edit started from: a save on top of an older one is not applied
    base = HiddenField()
    note = StringField(_l("What did you change? (optional)"), [at_most(200)])
    submit = SubmitField(_l("Save as a new version"))
