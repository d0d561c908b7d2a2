"""Dates and times as people read them: one style per language everywhere, in the site's
time zone (``ARCHIVE_TIMEZONE``, Flask-Babel's ``BABEL_DEFAULT_TIMEZONE``) with the zone
named, and ISO 8601 with the zone's offset for files people keep.

A date is Babel's 'medium' date ("7 Dec 2026", "7 दिस॰ 2026", "7 डिसें, 2026"); a moment is
that date, the 'short' time and the zone's short name ("7 Dec 2026, 6:30 pm IST"). English
is written as in India (``en_IN``). Times are stored as naive UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import Optional

from babel import Locale
from babel import dates as babel
from flask_babel import get_locale, get_timezone

DATE_STYLE = "medium"
TIME_STYLE = "short"
#: the locale whose conventions a language's dates follow, where it is not the language's own
DATE_LOCALES = {"en": "en_IN"}


def site_zone() -> tzinfo:
    return get_timezone()


def local(moment: datetime) -> datetime:
    """A stored moment (naive UTC) in the site's time zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(site_zone())


def iso(moment: datetime) -> str:
    """ISO 8601 in the site's zone with its offset, to the second: 2026-12-07T18:30:00+05:30."""
    return local(moment).isoformat(timespec="seconds")


@lru_cache(maxsize=16)
def _parsed(code: str) -> Locale:
    return Locale.parse(DATE_LOCALES.get(code, code))


def _locale() -> Locale:
    return _parsed(str(get_locale() or "en"))


def show_date(value: date | datetime, style: Optional[str] = None) -> str:
    """A date in the reader's language; a moment is first taken to the site's zone."""
    if isinstance(value, datetime):
        value = local(value).date()
    return babel.format_date(value, style or DATE_STYLE, locale=_locale())


def show_moment(value: datetime, style: Optional[str] = None) -> str:
    """A date and time in the reader's language, in the site's zone, the zone named."""
    moment, locale = local(value), _locale()
    if style:
        return babel.format_datetime(moment, style, tzinfo=moment.tzinfo, locale=locale)
    day = babel.format_date(moment.date(), DATE_STYLE, locale=locale)
    time = babel.format_time(moment, TIME_STYLE, tzinfo=moment.tzinfo, locale=locale)
    pattern = str(locale.datetime_formats[DATE_STYLE]).replace("'", "")
    return pattern.replace("{0}", f"{time} {zone_name(moment)}").replace("{1}", day)


def zone_name(moment: datetime) -> str:
    """The zone's short name at that moment, as the time zone database gives it (IST, CET,
    or an offset such as +0545 where it has none)."""
    return local(moment).tzname() or local(moment).strftime("%z")
