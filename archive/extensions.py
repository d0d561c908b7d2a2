"""Flask extensions, created unbound here and bound to an app in ``create_app``."""

from __future__ import annotations

from flask import request
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf import CSRFProtect

from archive.models.accounts import LOCALES

#: each language named in itself, for the language switcher
LOCALE_NAMES = {"en": "English", "hi": "हिन्दी", "mr": "मराठी"}
#: the switcher's choice: a plain cookie, set only when someone chooses, so a reader who never
#: chose carries no cookie at all and their pages can be kept by a shared cache
LANGUAGE_COOKIE = "language"

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
compress = Compress()
#: ``swallow_errors``: a failed sign-in is counted per address after its answer is made
#: (``deduct_when``), and Flask-Limiter falls back to memory when a check fails, not when such
#: a count does: should Redis stop answering just then, the count is made in memory or, at
#: worst, lost, never the answer. The fallback (`create_app`) is always on, so a failing
#: check still never lets a request through unlimited.
limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[],
    headers_enabled=True,
    strategy="moving-window",
    swallow_errors=True,
)


def select_locale() -> str:
    """The account's choice, then the switcher's (its cookie), then Accept-Language."""
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    return chosen_language() or request.accept_languages.best_match(LOCALES) or "en"


def chosen_language() -> str | None:
    """The language this browser chose with the switcher (its cookie), if any."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in LOCALES else None
