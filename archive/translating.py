"""Translated words in templates, looked up cheaply.

Flask-Babel's template ``_``, ``ngettext`` and ``pgettext`` find the request's context, the
babel extension, the locale and the translations anew for every string: a page of twenty
strings paid for it twenty times. Here each rendering looks the translations up once (a
context processor, so ``force_locale`` around a ``render_template`` still holds) and every
string of that rendering reads them from its context. A macro imported without context
finds none there and asks Flask-Babel, as before. Numbers are formatted once per number
and language, in the language looked up with the translations.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from babel import Locale
from babel.numbers import format_decimal
from flask import Flask
from flask_babel import get_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context

#: the template context's names for this rendering's translations and language
TRANSLATIONS = "_archive_translations"
LOCALE = "_archive_locale"


def init_app(app: Flask) -> None:
    app.context_processor(once_per_rendering)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # the i18n extension's
        gettext=gettext, ngettext=ngettext, pgettext=pgettext, npgettext=npgettext, newstyle=True
    )


def once_per_rendering() -> dict[str, Any]:
    return {TRANSLATIONS: get_translations(), LOCALE: _locale()}


def _locale() -> str:
    locale = get_locale()
    return str(locale) if locale is not None else "en"


def _translations(context: Context) -> Any:
    found = context.get(TRANSLATIONS)
    return found if found is not None else get_translations()


@pass_context
def gettext(context: Context, message: str) -> str:
    return _translations(context).ugettext(message)


@pass_context
def ngettext(context: Context, singular: str, plural: str, number: int) -> str:
    return _translations(context).ungettext(singular, plural, number)


@pass_context
def pgettext(context: Context, where: str, message: str) -> str:
    return _translations(context).upgettext(where, message)


@pass_context
def npgettext(context: Context, where: str, singular: str, plural: str, number: int) -> str:
    return _translations(context).unpgettext(where, singular, plural, number)


@pass_context
def format_number(context: Context, number: int | float) -> str:
    """A number as the page's language writes it (Flask-Babel's ``format_number``)."""
    return _formatted(number, context.get(LOCALE) or _locale())


@lru_cache(maxsize=4096)
def _formatted(number: int | float, locale: str) -> str:
    return format_decimal(number, locale=Locale.parse(locale))
