"""Forms for curating collections."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Optional

from archive.web.forms import Form, at_most, options, required

#: what an introduction's Markdown lets people do, in words they use
FORMATTING = _l(
    "Formatting: *italic*, **bold**, and lists (after an empty line, each line "
    "starting with “- ”). Every change is kept as a new version."
)
STATE_CHOICES = [
    ("draft", _l("Draft: only the circle's facilitators see it")),
    ("circle", _l("Circle: the circle's members see it")),
    ("public", _l("Public: anyone may read it (only public pieces)")),
]


class CollectionForm(Form):
    title = StringField(_l("Title"), [required(), at_most(200)])
    # made from the title when left empty, and shown filled in whenever the form comes back
    slug = StringField(
        _l("Short name for links"),
        [Optional(), at_most(200)],
        description=_l(
            "Left empty, it is made from the title (माँ की रसोई "
            "becomes ma-ki-rasoi). You may write your own."
        ),
        render_kw={"autocapitalize": "none"},
    )
    intro = TextAreaField(
        _l("Introduction (optional)"),
        [at_most(20_000)],
        description=FORMATTING,
        render_kw={"rows": 6, "dir": "auto"},
    )
    submit = SubmitField(_l("Make the collection"))


class EditForm(Form):
    id_prefix = "edit-"
    title = StringField(_l("Title"), [required(), at_most(200)])
    intro = TextAreaField(
        _l("Introduction (optional)"),
        [at_most(20_000)],
        description=FORMATTING,
        render_kw={"rows": 6, "dir": "auto"},
    )
    submit = SubmitField(_l("Save"))


class StateForm(Form):
    id_prefix = "readers-"
    state = RadioField(_l("Who may read this collection?"), choices=options(*STATE_CHOICES))
    submit = SubmitField(_l("Save"))


class AddEntryForm(Form):
    id_prefix = "add-"
    item = SelectField(_l("Piece to add"), choices=[], validate_choice=True)
    note = StringField(_l("Your note about it (optional)"), [at_most(500)])
    submit = SubmitField(_l("Add to the collection"))


class NoteForm(Form):
    note = StringField(_l("Curator's note"), [at_most(500)])
    submit = SubmitField(_l("Save the note"))


class ShareLinkForm(Form):
    id_prefix = "share-"
    days = SelectField(
        _l("The link works for"),
        coerce=int,
        default=30,
        choices=options((7, _l("7 days")), (30, _l("30 days")), (90, _l("90 days"))),
    )
    submit = SubmitField(_l("Make a share link"))
