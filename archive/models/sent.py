"""Forms sent once: what a second send of the same form leads to."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from archive.db import Model, utcnow


class SentForm(Model):
    """A form that changed something (sharing a piece, agreeing to a proposal), sent once.

    A second send of it — a reload, Back and resend, a double tap — leads to the first one's
    answer instead of acting again (`archive.web.once`). Holds the hash of the form's
    one-time token (the token itself is only in the person's page and session), where the
    answer is shown, and what that page shows for a while to that session alone (the
    withdrawal code) sealed with the token: the database alone never reveals it. No content:
    the answer's address names a piece by its public id only."""

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    result: Mapped[Optional[str]] = mapped_column(String(300))
    sealed: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
