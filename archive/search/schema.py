"""What the index holds about an item: enough to find it and to filter by the access rule.

Nothing is stored but the id: titles, snippets and everything shown come from the database's
current revision of an item the viewer may see. Less stored text also means less to compact
after an erasure.
"""
from __future__ import annotations

from datetime import date

from whoosh.fields import ID, KEYWORD, NUMERIC, TEXT, Schema

from archive.search.analyzer import roman_analyzer, text_analyzer

NO_REVIEW = 99991231


def make_schema() -> Schema:
    text = text_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=text, field_boost=2.0),
        #: everything a reader sees: title, body, tags, alt text, the consented byline
        content=TEXT(analyzer=text),
        roman=TEXT(analyzer=roman_analyzer(), field_boost=0.5),
        tags=KEYWORD(commas=True, lowercase=True),
        kind=ID,
        language=ID,
        circle=ID,
        audience=ID,
        contributor=ID,
        steward=ID,
        review=NUMERIC(int, bits=32, signed=False),
        updated=NUMERIC(int, bits=64, signed=False, sortable=True),
    )


def day_number(day: date | None) -> int:
    return NO_REVIEW if day is None else day.year * 10000 + day.month * 100 + day.day


def document(item) -> dict:
    """The index entry of an active item, from its current revision and consent."""
    from archive.access import byline
    rev, consent = item.current, item.consent
    tags = ",".join(rev.tags)
    name = byline(item) or ""
    content = "\n".join((rev.title, rev.body, tags.replace(",", " "), rev.alt_text, name))
    return {
        "id": item.public_id, "title": rev.title, "content": content, "tags": tags,
        "roman": content,
        "kind": item.kind, "language": rev.language, "circle": str(item.circle_id),
        "audience": consent.audience, "contributor": str(item.contributor_id),
        "steward": "0" if item.contributor.has_account else "1",
        "review": day_number(consent.review_by),
        "updated": int(item.updated_at.timestamp()),
    }
