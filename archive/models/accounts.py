"""Accounts: who signs in, and the API tokens they hold."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Optional

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db import Model, one_of, utcnow

if TYPE_CHECKING:
    from archive.models.circles import Membership

ROLES = ("participant", "facilitator", "admin")
#: the languages the site speaks (Flask-Babel catalogs): an account's chosen one is one of them
LOCALES = ("en", "hi", "mr")


class Account(UserMixin, Model):
    __table_args__ = (one_of("role", ROLES), one_of("locale", LOCALES))

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40))
    #: casefolded NFC form of the username: what makes two usernames "the same"
    username_key: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[Optional[str]] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="participant")
    locale: Mapped[Optional[str]] = mapped_column(String(8))
    #: bumped on sign-out and password change: every older session cookie stops working
    session_version: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="account", cascade="all, delete-orphan"
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username


class ApiToken(Model):
    """A bearer token for the JSON API. Only a SHA-256 of the secret is kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[Optional[datetime]]
    revoked_at: Mapped[Optional[datetime]]

    account: Mapped[Account] = relationship()


class PasswordReset(Model):
    """A one-time, expiring link with which a member chooses a new password, made for them
    by a facilitator of their circle or an admin (no email needed). Only a SHA-256 of the
    link's token is kept. ``ended_at``: used, or replaced by a newer link for the account."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[Optional[datetime]]

    account: Mapped[Account] = relationship(foreign_keys=[account_id])
