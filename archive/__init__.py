"""Living Archive: consented know-hows, poems, stories and artwork kept as living documents."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from archive import canonical, owner_only
from archive import config as settings
from archive.db import db
from archive.media.storage import storage_from_config


class DatabaseInt(IntegerConverter):
    """``<int:…>`` in a URL: a number a database integer can hold (else 404, not 500)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` overrides environment and defaults (tests use it).
    Files it makes are the owner's alone (the umask), and so are older ones (`owner_only`)."""
    owner_only.restrict_umask()
    app = Flask(
        __name__, template_folder=str(settings.SHIPPED / "templates"), static_folder="static"
    )
    app.url_map.converters["int"] = DatabaseInt
    values = settings.from_environment()
    values.update(config or {})
    app.config.from_mapping(settings.finish(values))
    _configure(app)
    _bind_extensions(app)
    _register_blueprints(app)
    from archive import background, cli, errors, search, security
    from archive.media import leftovers
    from archive.web import once, photo_drafts

    security.init_app(app)
    background.init_app(app)
    search.init_app(app)
    leftovers.init_app(app)
    once.init_app(app)
    photo_drafts.init_app(app)
    _consent_hooks()
    errors.init_app(app)
    cli.init_app(app)
    _template_helpers(app)
    return app


def _consent_hooks() -> None:
    """What must follow a consent change or an erasure, inside the same transaction: the
    receivers of `archive.signals` (search connects its own in ``search.init_app``); an
    erasure also takes its piece's last tags out of the circle's concepts.
    Cached packs come before the collections: they look up the collection entries that
    the collection receivers take out."""
    from archive import packs
    from archive.operations import collections, tags
    from archive.signals import consent_changed, item_erasing

    for signal, receiver in (
        (consent_changed, packs.queue_drop),
        (item_erasing, packs.queue_drop),
        (consent_changed, collections.leave_where_no_longer_allowed),
        (item_erasing, collections.leave_everything),
        (item_erasing, tags.forget_erased_tags),
    ):
        signal.connect(receiver, weak=False)


def _template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from archive import translating
    from archive.dates import show_date, show_moment
    from archive.extensions import LOCALE_NAMES
    from archive.labels import HELPERS
    from archive.web import ledger

    app.jinja_env.globals.update(HELPERS, ledger_who=ledger.who)
    # one date style and one date-and-time style per language, in the site's zone, named
    app.jinja_env.globals.update(
        current_locale=lambda: str(get_locale() or "en"),
        locale_names=LOCALE_NAMES,
        format_date=show_date,
        format_datetime=show_moment,
        format_number=translating.format_number,
    )
    translating.init_app(app)


def _configure(app: Flask) -> None:
    config = app.config
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    # hide_parameters: an error in the log must never carry what someone wrote; a server's
    # connections are tested before use (a restart drops them), a SQLite file's need not be
    config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        {
            "pool_pre_ping": not str(config["DATABASE_URL"]).startswith("sqlite"),
            "hide_parameters": True,
        },
    )
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["SESSION_COOKIE_SECURE"] = bool(config["SECURE_COOKIES"])
    config["REMEMBER_COOKIE_SECURE"] = bool(config["SECURE_COOKIES"])
    config["WTF_CSRF_TIME_LIMIT"] = None  # tied to the session; a slow phone form stays valid
    config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(app.root_path) / "translations")
    config["BABEL_DEFAULT_LOCALE"] = "en"
    config["BABEL_DEFAULT_TIMEZONE"] = config["TIMEZONE"]
    # Flask's own defaults hold MAX_CONTENT_LENGTH = None, so .get(key, default) never applied
    config["MAX_CONTENT_LENGTH"] = config.get("MAX_CONTENT_LENGTH") or 25 * 1024 * 1024
    # a form's text part (Werkzeug's default, 500 kB) holds the longest piece the API takes as
    # JSON: 50,000 letters, each up to 12 bytes once escaped
    config["MAX_FORM_MEMORY_SIZE"] = max(config.get("MAX_FORM_MEMORY_SIZE") or 0, 1024 * 1024)
    _rate_limit_storage(config)
    Path(config["INDEX_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    owner_only.tighten(config)
    storage_from_config(config)  # a folder is made now; a wrong MEDIA_URL stops the start
    canonical.init_app(app)  # inside ProxyFix: it checks the host the proxy was asked for
    if config["PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's way to wrap it
            app.wsgi_app, x_for=1, x_proto=1, x_host=1
        )


def _rate_limit_storage(config) -> None:
    """Rate limits count in Redis when it is configured, so every worker and every machine
    shares one count. When Redis stops answering, each worker counts in its own memory with
    the same limits (so a guesser gets at most one allowance per worker) and returns to Redis
    once it answers again: signing in and withdrawing by code stay open, guessing stays
    limited. Short socket timeouts keep an unreachable Redis from holding requests up."""
    config.setdefault("RATELIMIT_STORAGE_URI", config["REDIS_URL"] or "memory://")
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    if not config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
        )


def _bind_extensions(app: Flask) -> None:
    from archive import (
        compression,
        models,  # noqa: F401  (registers the tables)
    )
    from archive.extensions import babel, csrf, limiter, login_manager, select_locale
    from archive.web.auth import load_account

    compression.init_app(app)  # first, so that it is the last step of every answer
    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.user_loader(load_account)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = _l("Please sign in to see that page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


def _register_blueprints(app: Flask) -> None:
    from archive import api
    from archive.web import (
        admin,
        auth,
        circles,
        collections,
        consent,
        health,
        items,
        mine,
        pages,
        public,
        search,
        tags,
    )

    for module in (
        pages,
        auth,
        circles,
        items,
        consent,
        mine,
        collections,
        search,
        tags,
        admin,
        health,
        public,
        api,
    ):
        app.register_blueprint(module.bp)
