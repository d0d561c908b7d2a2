"""Forms for the pages of accounts, circles and administration. Every label and message is
translated; every form carries a CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_wtf import FlaskForm
from wtforms import (
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

try:
    from wtforms import SelectChoice  # type: ignore[attr-defined]  # new in 3.3; stubs: 3.2
except ImportError:  # WTForms before 3.3 takes tuples
    SelectChoice = None

REQUIRED = _l("Please fill this in.")

#: WTForms' own messages (for tampered or mistyped values), said our way and translated
WTFORMS_MESSAGES = {
    "Not a valid choice.": _l("Please choose one of the options."),
    "Invalid Choice: could not coerce.": _l("Please choose one of the options."),
    "'%(value)s' is not a valid choice for this field.": _l("Please choose one of the options."),
    "Not a valid date value.": _l("Please give a date like 2027-03-31."),
    "Not a valid integer value.": _l("Please give a number."),
    "This field is required.": REQUIRED,
}


class _Messages:
    def gettext(self, string):
        return str(WTFORMS_MESSAGES.get(string, string))

    def ngettext(self, singular, plural, n):
        return self.gettext(singular if n == 1 else plural)


class Form(FlaskForm):
    """Every form of the site: CSRF from Flask-WTF, WTForms' messages in our words.

    A form that shares its page with others sets `id_prefix`: its fields' ids (its CSRF token
    and button too) start with it, so no id is given twice on a page and each label stays
    tied to its own field. The names, and so what the form sends, stay as they are."""

    id_prefix = ""

    class Meta:
        def get_translations(self, form):
            return _Messages()

        def bind_field(self, form, unbound_field, options):
            if form.id_prefix and "id" not in unbound_field.kwargs:
                options = {**options, "id": f"{form.id_prefix}{options['prefix']}{options['name']}"}
            return unbound_field.bind(form=form, **options)


def required():
    return DataRequired(message=REQUIRED)


def at_most(n: int):
    return Length(
        max=n,
        message=lazy_ngettext(
            "Please keep this under %(num)d character.",
            "Please keep this under %(num)d characters.",
            n + 1,
        ),
    )


def options(*pairs) -> list:
    """Choices as ``(value, label)`` pairs, given to WTForms in the form it wants: tuples are
    deprecated from WTForms 3.3 (a warning, an error in the tests) and go in 3.4."""
    if SelectChoice is None:
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]


def locale_choices():
    from archive.extensions import LOCALE_NAMES

    return options(("", _l("Same as my browser")), *LOCALE_NAMES.items())


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SignInForm(Form):
    username = StringField(
        _l("Username"),
        [required(), at_most(40)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Password"), [required(), at_most(256)], render_kw={"autocomplete": "current-password"}
    )
    submit = SubmitField(_l("Sign in"))


class JoinForm(Form):
    username = StringField(
        _l("Choose a username"),
        [required(), at_most(40)],
        description=_l("This is how you sign in. 3 to 40 letters or digits, no spaces."),
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    display_name = StringField(
        _l("Your name as others in the circle will see it (optional)"),
        [at_most(80)],
        render_kw={"autocomplete": "nickname"},
    )
    password = PasswordField(
        _l("Choose a password"),
        [required(), at_most(256)],
        description=_l("At least 10 characters. A short sentence is easy to remember."),
        render_kw={"autocomplete": "new-password"},
    )
    password_again = PasswordField(
        _l("Type the password again"),
        [required(), EqualTo("password", message=_l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Join the circle"))


class AcceptInviteForm(Form):
    submit = SubmitField(_l("Join this circle"))


class ProfileForm(Form):
    display_name = StringField(_l("Your name as others will see it"), [at_most(80)])
    locale = SelectField(_l("Language of the site"), choices=locale_choices, validate_choice=True)
    submit = SubmitField(_l("Save"))


class PasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"),
        [required(), at_most(256)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        [required(), at_most(256)],
        description=_l("At least 10 characters. Signing in elsewhere will end."),
        render_kw={"autocomplete": "new-password"},
    )
    new_password_again = PasswordField(
        _l("Type the new password again"),
        [required(), EqualTo("new_password", message=_l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))


class NewPasswordForm(Form):
    """Choosing a new password with a link a facilitator or an admin made."""

    new_password = PasswordField(
        _l("New password"),
        [required(), at_most(256)],
        description=_l("At least 10 characters. A short sentence is easy to remember."),
        render_kw={"autocomplete": "new-password"},
    )
    new_password_again = PasswordField(
        _l("Type the new password again"),
        [required(), EqualTo("new_password", message=_l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Save my new password"))


class TokenForm(Form):
    label = StringField(_l("What is this token for? (optional)"), [at_most(80)])
    current_password = PasswordField(
        _l("Your password"),
        [required(), at_most(256)],
        description=_l("Asked again, so that only you can make a token."),
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Create a token"))


class PlainForm(Form):
    """A form that is only a button (sign out, revoke, choose a language): CSRF and nothing
    else."""


class InviteForm(Form):
    days = SelectField(
        _l("The link works for"),
        coerce=int,
        default=7,
        choices=options(
            (1, _l("1 day")),
            (3, _l("3 days")),
            (7, _l("7 days")),
            (14, _l("14 days")),
            (30, _l("30 days")),
        ),
    )
    role = RadioField(
        _l("They join as"),
        default="participant",
        choices=options(("participant", _l("Participant")), ("facilitator", _l("Facilitator"))),
    )
    submit = SubmitField(_l("Make an invite link"))


class CircleForm(Form):
    name = StringField(_l("Name of the circle"), [required(), at_most(120)])
    slug = StringField(
        _l("Short name for links"),
        [required(), at_most(64)],
        description=_l("Small letters, digits and hyphens, e.g. caregivers-pune."),
        render_kw={"autocapitalize": "none"},
    )
    description = TextAreaField(
        _l("A few words about the circle (optional)"), [Optional(), at_most(1000)]
    )
    languages = CheckboxList(
        _l("Languages the circle writes in"),
        default=["en"],
        choices=options(
            ("en", "English"), ("hi", "हिन्दी"), ("mr", "मराठी"), ("other", _l("Other"))
        ),
    )
    submit = SubmitField(_l("Create the circle"))


class MemberForm(Form):
    username = StringField(_l("Username"), [required(), at_most(40)])
    role = RadioField(
        _l("Role in this circle"),
        default="participant",
        choices=options(("participant", _l("Participant")), ("facilitator", _l("Facilitator"))),
    )
    submit = SubmitField(_l("Add to the circle"))


class RoleForm(Form):
    role = SelectField(
        _l("Role"),
        choices=options(
            ("participant", _l("Participant")),
            ("facilitator", _l("Facilitator")),
            ("admin", _l("Admin")),
        ),
    )
    submit = SubmitField(_l("Change role"))


class ConceptLabels(Form):
    """A concept's names, one per language; at least one (``operations.tags``)."""

    label_en = StringField(_l("Name in English"), [at_most(40)])
    label_hi = StringField(_l("Name in Hindi"), [at_most(40)])
    label_mr = StringField(_l("Name in Marathi"), [at_most(40)])
    submit = SubmitField(_l("Save the names"))

    def labels(self) -> dict[str, str]:
        return {
            "en": self.label_en.data or "",
            "hi": self.label_hi.data or "",
            "mr": self.label_mr.data or "",
        }


class JoinTagsForm(ConceptLabels):
    tags = CheckboxList(
        _l("Tags that mean the same"),
        description=_l("A tag already in a concept brings that concept along: they become one."),
        validate_choice=False,
    )
    submit = SubmitField(_l("Join them"))
