"""Accounts: creating them, signing in and out, passwords (and the links with which a member
chooses a new one), languages, API tokens, invites."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Optional

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from archive import passwords
from archive.db import db, rows_changed, savepoint, utcnow
from archive.extensions import LOCALES
from archive.models import (
    ROLES,
    Account,
    ApiToken,
    Circle,
    Consent,
    Contributor,
    Invite,
    Item,
    Membership,
    PasswordReset,
)
from archive.numbers import db_int
from archive.operations import Refused
from archive.text import key, one_line

USERNAME = re.compile(r"^[\w.\-\u0900-\u097F\u200c\u200d]{3,40}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 256
USERNAME_TAKEN = _l("That username is taken. Please choose another.")
#: verified against when a username is unknown, so both paths take the same time
_DUMMY_HASH: dict[str, str] = {}


def check_username(username: str) -> str:
    username = one_line(username)
    if not USERNAME.match(username):
        raise Refused(
            _l("A username has 3 to 40 letters or digits, and may use . - _ (no spaces)."),
            field="username",
        )
    if db.session.scalar(select(Account.id).where(Account.username_key == key(username))):
        raise Refused(USERNAME_TAKEN, field="username")
    return username


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise Refused(
            lazy_ngettext(
                "Please use at least %(num)d character for your password.",
                "Please use at least %(num)d characters for your password.",
                MIN_PASSWORD,
            ),
            field="password",
        )
    if len(password) > MAX_PASSWORD:
        raise Refused(_l("That password is too long."), field="password")
    return password


def create_account(
    username: str,
    password: str,
    role: str = "participant",
    display_name: str = "",
    locale: Optional[str] = None,
) -> Account:
    if role not in ROLES:
        raise Refused(_l("Unknown role."), field="role")
    account = Account(
        username=check_username(username),
        username_key=key(username),
        password_hash=passwords.hash_password(check_password(password)),
        role=role,
        display_name=one_line(display_name)[:80] or None,
        locale=locale if locale in LOCALES else None,
    )
    _insert_unless_taken(account)
    return account


def _insert_unless_taken(account: Account) -> None:
    """The insert is the final check: a request that took the same name after
    ``check_username`` looked makes it fail on the unique key, and that is refused as any
    taken name is. The savepoint keeps the rest of the unit of work usable for the answer,
    and the refusal then rolls all of it back (an invite stays unused)."""
    try:
        with savepoint():
            db.session.add(account)
    except IntegrityError as error:
        if "username_key" not in str(error.orig):
            raise
        raise Refused(USERNAME_TAKEN, field="username") from None


def authenticate(username: str, password: str) -> Optional[Account]:
    """The account these credentials open, or None. Takes as long for unknown usernames."""
    account = db.session.scalar(select(Account).where(Account.username_key == key(username)))
    if account is None or not account.active:
        passwords.verify_password(_dummy_hash(), password)
        return None
    if not passwords.verify_password(account.password_hash, password[:MAX_PASSWORD]):
        return None
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    return account


def _dummy_hash() -> str:
    params = (current_app.config["ARGON2_TIME_COST"], current_app.config["ARGON2_MEMORY_COST"])
    cache_key = repr(params)
    if cache_key not in _DUMMY_HASH:
        _DUMMY_HASH[cache_key] = passwords.hash_password(passwords.new_secret())
    return _DUMMY_HASH[cache_key]


def end_sessions(account: Account) -> None:
    """Every session cookie issued so far stops working (sign-out)."""
    account.session_version = (account.session_version or 0) + 1
    db.session.flush()


def sign_out_everywhere(account: Account) -> int:
    """Every session cookie and every API token of the account stop working, so whoever
    copied a cookie or holds a token keeps nothing. Returns how many tokens were stopped.
    A password change and a reset end the same things: a token would otherwise outlive the
    password that let someone make it."""
    end_sessions(account)
    return rows_changed(
        update(ApiToken)
        .where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def _check_current_password(account: Account, current: str) -> None:
    if not passwords.verify_password(account.password_hash, current[:MAX_PASSWORD]):
        raise Refused(_l("Your current password is not right."), field="current_password")


def change_password(account: Account, current: str, new: str) -> int:
    """Returns how many API tokens were stopped (`sign_out_everywhere`)."""
    _check_current_password(account, current)
    account.password_hash = passwords.hash_password(check_password(new))
    return sign_out_everywhere(account)


def set_password(account: Account, new: str) -> int:
    """For an admin or the CLI resetting a password on someone's request. Returns how many
    API tokens were stopped (`sign_out_everywhere`)."""
    account.password_hash = passwords.hash_password(check_password(new))
    return sign_out_everywhere(account)


def update_profile(account: Account, display_name: str, locale: Optional[str]) -> None:
    shown = account.shown_name
    account.display_name = one_line(display_name)[:80] or None
    account.locale = locale if locale in LOCALES else None
    db.session.flush()
    if account.shown_name != shown:
        _index_bylines_again(account)


def _index_bylines_again(account: Account) -> None:
    """Bylines are indexed for search: every active piece signed with the account's name is
    indexed again, so the old name finds nothing and the new one finds the piece."""
    from archive.search import queue

    signed = db.session.scalars(
        select(Item)
        .join(Contributor, Contributor.id == Item.contributor_id)
        .join(Consent, Consent.item_id == Item.id)
        .where(
            Contributor.account_id == account.id,
            Item.state == "active",
            Consent.attribution == "name",
        )
    )
    for item in signed:
        queue(item)


def set_role(account: Account, role: str, by: Optional[Account] = None) -> None:
    """Change the account's role on the site. A participant facilitates no circle: each
    circle it facilitated is told (a ``CircleEvent`` by ``by``)."""
    from archive.operations.circles import record_change

    if role not in ROLES:
        raise Refused(_l("Unknown role."), field="role")
    if (
        account.role == "admin"
        and role != "admin"
        and (
            db.session.scalar(
                select(func.count()).select_from(Account).where(Account.role == "admin")
            )
            or 0
        )
        <= 1
    ):
        raise Refused(_l("The site needs at least one admin."), field="role")
    account.role = role
    if role == "participant":
        for member in account.memberships:
            record_change(member.circle, account, member.role, "participant", by)
            member.role = "participant"
    db.session.flush()


# --- API tokens ---------------------------------------------------------------------------


def create_token_confirmed(account: Account, current_password: str, label: str = "") -> str:
    """A token asked for on the account page: only with the current password, so a session
    someone took over cannot be turned into a credential that outlives it."""
    _check_current_password(account, current_password)
    return create_token(account, label)


def create_token(account: Account, label: str = "") -> str:
    """A new API token; the secret is returned once and only its hash is kept. (For the
    command line, whose operator already holds the site; people use `create_token_confirmed`.)"""
    secret = "la_" + passwords.new_secret()
    db.session.add(
        ApiToken(account=account, secret_hash=passwords.digest(secret), label=one_line(label)[:80])
    )
    db.session.flush()
    return secret


def revoke_token(account: Account, token_id: int) -> None:
    token = db.session.get(ApiToken, db_int(token_id) or 0)  # no such number: not found
    if token is None or token.account_id != account.id or token.revoked_at:
        raise Refused(_l("That token was not found."), status=404)
    token.revoked_at = utcnow()
    db.session.flush()


def account_for_token(secret: str) -> Optional[Account]:
    token = db.session.scalar(
        select(ApiToken).where(
            ApiToken.secret_hash == passwords.digest(secret), ApiToken.revoked_at.is_(None)
        )
    )
    if token is None or not token.account.active:
        return None
    token.last_used_at = utcnow()
    return token.account


# --- invites ------------------------------------------------------------------------------


def create_invite(
    circle: Circle, by: Account, days: Optional[int] = None, role: str = "participant"
) -> str:
    """A single-use link token to join ``circle``; returned once, kept only as a hash."""
    days = current_app.config["INVITE_DAYS"] if days is None else days
    if not 1 <= days <= 30:
        raise Refused(_l("An invite can last from 1 to 30 days."), field="days")
    if role == "facilitator" and not by.is_admin:
        raise Refused(_l("Only an admin can invite a facilitator."), field="role")
    token = passwords.new_secret()
    db.session.add(
        Invite(
            token_hash=passwords.digest(token),
            circle=circle,
            role=role,
            created_by=by,
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    db.session.flush()
    return token


def open_invite(token: str) -> Invite:
    """The invite behind a token, if it can still be used."""
    invite = db.session.scalar(
        select(Invite).where(Invite.token_hash == passwords.digest(token or ""))
    )
    if invite is None or invite.revoked_at is not None:
        raise Refused(
            _l("This invite link is not valid. Please ask your facilitator for a new one."),
            status=404,
        )
    if invite.used_at is not None:
        raise Refused(
            _l(
                "This invite link has already been used. Please ask your facilitator for a new one."
            ),
            status=410,
        )
    if invite.expires_at <= utcnow():
        raise Refused(
            _l("This invite link has expired. Please ask your facilitator for a new one."),
            status=410,
        )
    return invite


def redeem_invite(token: str, account: Account) -> Membership:
    """Use the invite for ``account``; a second use, even at the same moment, is refused."""
    invite = open_invite(token)
    claimed = rows_changed(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None))
        .values(used_at=utcnow(), used_by_id=account.id)
    )
    if claimed != 1:
        raise Refused(
            _l(
                "This invite link has already been used. Please ask your facilitator for a new one."
            ),
            status=410,
        )
    from archive.operations.circles import add_member

    role = "facilitator" if invite.role == "facilitator" else "participant"
    if role == "facilitator" and account.role == "participant":
        account.role = "facilitator"
    if (
        db.session.scalar(
            select(Membership.role).where(
                Membership.account_id == account.id, Membership.circle_id == invite.circle_id
            )
        )
        == "facilitator"
    ):
        role = "facilitator"  # an invite never lowers the role someone already has
    # the invite's maker chose the role: a facilitator joining this way is theirs to answer for
    return add_member(invite.circle, account, role, by=invite.created_by)


def join_with_invite(
    token: str, username: str, password: str, display_name: str = "", locale: Optional[str] = None
) -> Account:
    """Someone new picks a username and password from an invite link."""
    open_invite(token)
    account = create_account(username, password, display_name=display_name, locale=locale)
    redeem_invite(token, account)
    return account


def revoke_invite(invite: Invite) -> None:
    invite.revoked_at = invite.revoked_at or utcnow()
    db.session.flush()


# --- password help ------------------------------------------------------------------------

PASSWORD_LINK_GONE = _l(
    "This link to choose a new password does not work any more. Please "
    "ask your facilitator for a new one."
)


def create_password_reset(by: Account, account: Account) -> str:
    """A one-time link token with which ``account`` chooses a new password, made by ``by``
    on their request (``access.may_help_with_password``: else refused as not found). It is
    returned once and kept only as a hash; an older link of the account stops working. The
    help is recorded, without content, in the account's circles."""
    from archive import access
    from archive.operations.circles import record_password_help

    if not access.may_help_with_password(by, account):
        raise Refused(_l("There is no such member here."), status=404)
    now = utcnow()
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.account_id == account.id, PasswordReset.ended_at.is_(None))
        .values(ended_at=now)
    )
    token = passwords.new_secret()
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    db.session.add(
        PasswordReset(
            token_hash=passwords.digest(token),
            account_id=account.id,
            created_by_id=by.id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    record_password_help(account, by)
    db.session.flush()
    return token


def open_password_reset(token: str) -> PasswordReset:
    """The link behind a token while it can be used; a used, replaced, expired or unknown
    link is refused alike (404), so none of them says more than the others."""
    found = db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == passwords.digest(token or ""))
    )
    if (
        found is None
        or found.ended_at is not None
        or found.expires_at <= utcnow()
        or not found.account.active
    ):
        raise Refused(PASSWORD_LINK_GONE, status=404)
    return found


def reset_password(token: str, new: str) -> Account:
    """The member chooses a new password with the link: every other session and every API
    token of the account end (`sign_out_everywhere`), and the link stops working — a second
    use, even at the same moment, is refused like an unknown link."""
    reset = open_password_reset(token)
    check_password(new)
    claimed = rows_changed(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    if claimed != 1:
        raise Refused(PASSWORD_LINK_GONE, status=404)
    account = reset.account
    account.password_hash = passwords.hash_password(new)
    sign_out_everywhere(account)
    return account
