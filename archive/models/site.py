"""Small facts about the site itself, such as whether the demo data has been loaded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from archive.db import Model, utcnow


class SiteFlag(Model):
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
