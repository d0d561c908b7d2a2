"""rendered revisions: a revision keeps its HTML, excerpt and description

A page used to convert a revision's Markdown on every read (three times for an item page).
From now on the safe HTML of the body, its plain excerpt (a poem's lines kept) and its
one-line description are made once, when the revision is saved, and kept beside it; this
migration makes them for the revisions already saved. They go with the revision when a
piece is withdrawn, like its body, and stay out of PostgreSQL's statistics (see 0007).
A collection's introduction, versioned the same way, keeps its HTML and description too.

The renderer below is a frozen copy of ``archive.text`` as it stood when this was written
(Markdown with nl2br and sane lists, indented code off, headings kept between h2 and h4,
nh3's allow-list; the excerpt and description rules): a migration must keep meaning what it
meant when written, whatever the application's code becomes.

Revision ID: 0016_rendered_revisions
Revises: 0015_tag_concepts
Create Date: 2026-12-08 01:30:00
"""

from __future__ import annotations

import re
import unicodedata
from xml.etree.ElementTree import Element

import markdown
import nh3
import sqlalchemy as sa
from alembic import op
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

revision = "0016_rendered_revisions"
down_revision = "0015_tag_concepts"
branch_labels = None
depends_on = None

#: table -> the columns it gains
COLUMNS = {
    "revision": ("html", "excerpt", "description"),
    "collection_intro": ("html", "description"),
}
#: revisions read and written back per round
BATCH = 500

# --- the renderer, frozen ------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ALLOWED_TAGS = {
    "p",
    "br",
    "em",
    "strong",
    "ul",
    "ol",
    "li",
    "blockquote",
    "h2",
    "h3",
    "h4",
    "a",
    "code",
    "pre",
    "hr",
}
_DROPPED_TAGS = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "template",
    "noscript",
    "svg",
    "math",
    "title",
}
_HEADING_TAGS = {f"h{level}" for level in range(1, 7)}
_LINE_ENDS = re.compile(r"<br\s*/?>|</(?:p|li|h[1-6]|blockquote|pre)>", re.IGNORECASE)
_CUT_AT = " ,;:.।॥-"


class _HeadingLevels(Treeprocessor):
    def run(self, root: Element) -> None:
        for element in root.iter():
            if element.tag in _HEADING_TAGS:
                element.tag = f"h{min(max(int(element.tag[1]), 2), 4)}"


def _converter() -> markdown.Markdown:
    converter = markdown.Markdown(extensions=["nl2br", "sane_lists"], output_format="html")
    converter.parser.blockprocessors.deregister("code")
    converter.treeprocessors.register(_HeadingLevels(converter), "heading_levels", 5)
    return converter


def _nfc(value: str | None) -> str:
    if not value:
        return ""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _CONTROL.sub("", value))


def _html(converter: markdown.Markdown, source: str | None) -> str:
    text = _nfc(source)
    if not text.strip():
        return ""
    return nh3.clean(
        converter.reset().convert(text),
        tags=_ALLOWED_TAGS,
        clean_content_tags=_DROPPED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer ugc",
        strip_comments=True,
    )


def _lines(html: str) -> list[str]:
    return [line for line in (Markup(part).striptags() for part in _LINE_ENDS.split(html)) if line]


def _excerpt(every: list[str], limit: int, lines: int | None, joiner: str) -> str:
    wanted = every[:lines] if lines else every
    kept: list[str] = []
    room = limit
    for line in wanted:
        if len(line) <= room:
            kept.append(line)
            room -= len(line) + len(joiner)
            continue
        head = line[: max(room, 0) + 1]
        cut = head.rsplit(" ", 1)[0] if " " in head else ""
        if cut or not kept:
            kept.append(cut or line[: max(room, 1)])
        return joiner.join(kept).rstrip(_CUT_AT) + "…"
    text = joiner.join(kept)
    return text.rstrip(_CUT_AT) + "…" if len(wanted) < len(every) else text


def rendered(converter: markdown.Markdown, body: str | None, alt_text: str | None) -> dict:
    html = _html(converter, body)
    lines = _lines(html)
    description = _excerpt(lines, 160, None, " / ")
    if not description and alt_text:
        description = _excerpt(_lines(_html(converter, alt_text)), 160, None, " / ")
    return {"html": html, "excerpt": _excerpt(lines, 220, 6, "\n"), "description": description}


# --- the migration -------------------------------------------------------------------------


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        for column in columns:
            op.add_column(table, sa.Column(column, sa.Text(), nullable=False, server_default=""))
        _render_saved(table, columns)
    if op.get_bind().dialect.name == "postgresql":
        for column in COLUMNS["revision"]:
            op.execute(f'ALTER TABLE "revision" ALTER COLUMN "{column}" SET STATISTICS 0')


def _render_saved(name: str, columns: tuple[str, ...]) -> None:
    """Every saved row rendered, ``BATCH`` rows at a time, with one converter."""
    connection = op.get_bind()
    has_alt_text = name == "revision"
    table = sa.table(
        name,
        sa.column("id", sa.Integer),
        sa.column("body", sa.Text),
        *([sa.column("alt_text", sa.String)] if has_alt_text else []),
        *(sa.column(column, sa.Text) for column in columns),
    )
    write = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"))
        .values({column: sa.bindparam(column) for column in columns})
    )
    converter = _converter()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(table).where(table.c.id > last).order_by(table.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        values = []
        for row in rows:
            made = rendered(converter, row.body, row.alt_text if has_alt_text else "")
            values.append({"row_id": row.id, **{column: made[column] for column in columns}})
        connection.execute(write, values)
        last = rows[-1].id


def downgrade() -> None:
    # SQLite (3.35+) drops a column in place, keeping the table's triggers (migration 0010)
    for table, columns in COLUMNS.items():
        for column in reversed(columns):
            op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
