"""Forms sent once, and what their answer shows for a while.

A form that changes something answers with a redirect (303) to a page that shows the result,
so Back and reload never send it again. Each such form carries a one-time token (a hidden
field): the first send that reaches the database claims it (`claim`, ordered like every
write: SQLite's one writer, PostgreSQL's unique key), and any later send of the same form —
a reload of an old answer, Back and resend, a double tap whose first answer the browser
dropped — leads to the first one's result (`earlier`) and never acts twice.

What the result page shows once — a new piece's withdrawal code, and likewise a new API
token, invite, share or password link (`show_once`) — is kept for `SHOWN_FOR`
for the session that sent the form, and no one else: the session holds the token, the
database only the token's hash and the code sealed with a key made from the token and the
site's secret. Neither the cookie nor the database alone gives the code, and the database
never holds it in clear. ``flask purge`` clears sealed codes past their time and forgets
sent forms after `KEPT_FOR`; a token older than that is no longer accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from datetime import timedelta
from typing import Optional

from flask import abort, current_app, flash, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite

from archive import purge
from archive.db import db, rows_changed, utcnow, write_lock
from archive.models import SentForm

FIELD = "form_token"
#: how long the answer page shows its code to the session that sent the form
SHOWN_FOR = timedelta(minutes=30)
#: how long a sent form is remembered (and a form's token accepted)
KEPT_FOR = timedelta(days=30)
SESSION_KEY = "shown"
#: answers a session keeps showing at once (the oldest is let go of first)
MAX_SHOWN = 5
TOKEN = re.compile(r"^([0-9a-f]{8,10})\.[A-Za-z0-9_-]{32}$")


def new_token() -> str:
    """A form's one-time token: when it was made, and 192 random bits."""
    return f"{int(time.time()):x}.{secrets.token_urlsafe(24)}"


def usable(token: Optional[str]) -> bool:
    """A token this site made, young enough to be remembered once it is sent."""
    found = TOKEN.match(token or "")
    return found is not None and time.time() - int(found.group(1), 16) < KEPT_FOR.total_seconds()


def token_of(form) -> Optional[str]:
    """The token the form was sent with (a fresh one for a form sent without), or None for a
    form opened longer ago than sent forms are remembered: it is not acted on."""
    sent = form.form_token.data
    if not sent:
        form.form_token.data = new_token()
        return form.form_token.data
    return sent if usable(sent) else None


def too_old(form, template: str, **context):
    """The form again with a fresh token: one opened long ago might have been sent before."""
    form.form_token.data = new_token()
    flash(_("This form was opened a long time ago. Please check it, then send it again."), "error")
    return render_template(template, form=form, **context), 422


def earlier(token: str):
    """The answer to a form sent before: a redirect to where its first send led, or None."""
    row = db.session.get(SentForm, _hash(token))
    return _answer(row, token) if row is not None else None


def claim(token: str):
    """Make this send the form's one send before acting on it, or, if another send of it
    got there first (waiting for that one to end), the answer it led to."""
    write_lock()
    table = SentForm.__table__
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = db.session.execute(
        dialect.insert(table)
        .values(token_hash=_hash(token), account_id=current_user.id, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=[table.c.token_hash])
        .returning(table.c.token_hash)
    )
    if inserted.first() is not None:
        return None
    row = db.session.get(SentForm, _hash(token), populate_existing=True)
    if row is None:  # forgotten the very moment it was sent again: send it once more
        abort(409)
    return _answer(row, token)


def done(token: str, result: str, shown: Optional[dict] = None):
    """The form's result is at ``result`` (a path of this site): remember it for later sends
    and answer with a redirect there; ``shown`` is what that page shows this session for
    `SHOWN_FOR` (sealed, never stored in clear)."""
    row = db.session.get(SentForm, _hash(token))
    if row is None:  # forgotten since it was claimed: as in `earlier`
        abort(409)
    row.result = _in_site(result)
    row.sealed = _seal(token, json.dumps(shown)) if shown else None
    db.session.flush()
    return _answer(row, token)


def show_once(result: str, shown: dict):
    """For a form without a token of its own whose answer shows something once (a new link,
    an API token): a redirect to the page at ``result``, which shows ``shown`` to this session
    for `SHOWN_FOR`, kept sealed like a withdrawal code."""
    token = new_token()
    claim(token)
    return done(token, result, shown)


def shown(result: str) -> Optional[dict]:
    """What the page at ``result`` shows this session, while it may; else None (and the
    session lets go of it)."""
    result = _in_site(result)
    token = session.get(SESSION_KEY, {}).get(result)
    if not token:
        return None
    row = db.session.get(SentForm, _hash(token))
    if (
        row is None
        or row.sealed is None
        or row.account_id != _account_id()
        or utcnow() - row.created_at > SHOWN_FOR
    ):
        _let_go(result)
        return None
    return json.loads(_unseal(token, row.sealed))


def forget(result: str) -> None:
    """The person has kept what the page showed: neither the session nor the database holds
    it any longer (a POST)."""
    result = _in_site(result)
    token = session.get(SESSION_KEY, {}).get(result)
    _let_go(result)
    if token:
        db.session.execute(
            update(SentForm).where(SentForm.token_hash == _hash(token)).values(sealed=None)
        )


def _answer(row: SentForm, token: str):
    if row.account_id != _account_id():
        abort(400)  # a token from someone else's page: not theirs to send
    if row.sealed is not None and row.result is not None:
        _remember(row.result, token)
    return redirect(request.script_root + (row.result or "/"), 303)


def _remember(result: str, token: str) -> None:
    kept = {path: t for path, t in session.get(SESSION_KEY, {}).items() if path != result}
    kept[result] = token
    session[SESSION_KEY] = dict(list(kept.items())[-MAX_SHOWN:])


def _let_go(result: str) -> None:
    kept = session.get(SESSION_KEY, {})
    if result in kept:
        session[SESSION_KEY] = {path: t for path, t in kept.items() if path != result}


def _in_site(path: str) -> str:
    """A path as the app sees it (without the prefix a proxy passes on)."""
    root = request.script_root
    return path[len(root) :] if root and path.startswith(root + "/") else path


def _account_id() -> Optional[int]:
    return current_user.id if current_user.is_authenticated else None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _keystream(token: str, length: int) -> bytes:
    key = str(current_app.secret_key).encode()
    blocks = (
        hmac.new(key, f"sealed:{token}:{n}".encode(), hashlib.sha256).digest()
        for n in range(length // 32 + 1)
    )
    return b"".join(blocks)[:length]


def _seal(token: str, text: str) -> str:
    data = text.encode()
    return bytes(a ^ b for a, b in zip(data, _keystream(token, len(data)), strict=True)).hex()


def _unseal(token: str, sealed: str) -> str:
    data = bytes.fromhex(sealed)
    return bytes(a ^ b for a, b in zip(data, _keystream(token, len(data)), strict=True)).decode()


def clear_old() -> str:
    """``flask purge``: sealed codes past their time are cleared, old sent forms forgotten."""
    now = utcnow()
    cleared = rows_changed(
        update(SentForm)
        .where(SentForm.sealed.is_not(None), SentForm.created_at < now - SHOWN_FOR)
        .values(sealed=None)
    )
    forgotten = rows_changed(delete(SentForm).where(SentForm.created_at < now - KEPT_FOR))
    db.session.commit()
    return f"cleared {cleared} code(s) past their time, forgot {forgotten} sent form(s)"


def init_app(_app) -> None:
    purge.COMPACTORS["sent forms"] = clear_old
