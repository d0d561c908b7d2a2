"""What the index holds about an item: enough to find it and to filter by the access rule.

Nothing is stored but the id: titles, snippets and everything shown come from the database's
current revision of an item the viewer may see. Less stored text also means less to compact
after an erasure.
"""

from __future__ import annotations

from datetime import date

from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.formats import Positions

from archive.search.analyzer import CommonPairs, IndexWords, RomanWords
from archive.search.engine.formats import WordCounts, WordPositions
from archive.search.stemming import StemWords

NO_REVIEW = 99991231


def make_schema(common: frozenset = frozenset()) -> Schema:
    """The fields; ``common`` is the archive's common words, whose adjacent pairs are
    indexed as terms (see `CommonPairs`). Only the content keeps word positions: phrases
    are matched there and nowhere else."""
    return Schema(
        id=ID(stored=True, unique=True),
        title=_words(TEXT(analyzer=IndexWords(), phrase=False, field_boost=2.0)),
        #: everything a reader sees: title, body, tags, alt text, the consented byline
        content=_words(TEXT(analyzer=IndexWords())),
        pairs=_words(TEXT(analyzer=CommonPairs(common), phrase=False)),
        roman=_words(TEXT(analyzer=RomanWords(), phrase=False, field_boost=0.5)),
        #: every word's stem keys (`stemming`): inflected forms, chat spellings, romanized
        #: text found by Devanagari; weighed below the words themselves
        stem=_words(
            TEXT(analyzer=StemWords(), phrase=False, field_boost=0.3, multitoken_query="or")
        ),
        tags=KEYWORD(commas=True, lowercase=True),
        kind=ID,
        language=ID,
        circle=ID,
        audience=ID,
        contributor=ID,
        steward=ID,
        review=NUMERIC(int, bits=32, signed=False),
        #: for newest-first only: a column, no terms
        updated=COLUMN(NumericColumn("Q")),
    )


def _words(field: TEXT) -> TEXT:
    """The field's postings in the archive's formats: word positions compact (`codec`), and
    words counted from the list the analyzers hand over, without a token object each."""
    fmt = field.format
    field.format = (WordPositions if isinstance(fmt, Positions) else WordCounts)(
        field_boost=fmt.field_boost
    )
    return field


def day_number(day: date | None) -> int:
    return NO_REVIEW if day is None else day.year * 10000 + day.month * 100 + day.day


def document(item) -> dict:
    """The index entry of an active item, from its current revision and consent."""
    from archive.access import byline

    rev, consent = item.current, item.consent
    return entry(
        public_id=item.public_id,
        kind=item.kind,
        circle_id=item.circle_id,
        contributor_id=item.contributor_id,
        has_account=item.contributor.has_account,
        updated_at=item.updated_at,
        title=rev.title,
        body=rev.body,
        tags=rev.tags,
        alt_text=rev.alt_text,
        language=rev.language,
        audience=consent.audience,
        review_by=consent.review_by,
        byline=byline(item),
    )


def entry(
    *,
    public_id: str,
    kind: str,
    circle_id,
    contributor_id,
    has_account: bool,
    updated_at,
    title: str,
    body: str,
    tags: list[str],
    alt_text: str,
    language: str,
    audience: str,
    review_by,
    byline,
) -> dict:
    """The index entry from plain values (a rebuild reads them as rows, not objects)."""
    joined = ",".join(tags)
    content = "\n".join((title, body, joined.replace(",", " "), alt_text, byline or ""))
    return {
        "id": public_id,
        "title": title,
        "content": content,
        "tags": tags,
        "roman": content,
        "pairs": content,
        "stem": content,
        "kind": kind,
        "language": language,
        "circle": str(circle_id),
        "audience": audience,
        "contributor": str(contributor_id),
        "steward": "0" if has_account else "1",
        "review": day_number(review_by),
        "updated": int(updated_at.timestamp()),
    }
