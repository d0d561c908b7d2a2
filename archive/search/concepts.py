"""Tags joined into a concept (``archive.vocabulary``): a word of a concept, searched for or
chosen as a facet, finds in the concept's circle the pieces carrying any word of it.

Expanded as the search is asked, from the concepts as they are now: the index keeps each
piece's own tags, so joining, renaming or splitting needs no reindexing. What finds is kept
to the concept's circle (a ``circle`` term); what ranks is the concept's words in the
piece's text, where its tags are too.
"""

from __future__ import annotations

from whoosh.query import And, Or, Query, Term

from archive import vocabulary
from archive.models import TagConcept
from archive.text import one_line


def expanded(query: Query, text: str, schema) -> tuple[Query, Query]:
    """``query`` with each word that is a word of a concept widened to the concept: the
    query that finds, and the one that ranks (without the circle, which scores nothing)."""
    typed = one_line(text).lower()
    groups = {word for word in map(_group_word, _groups(query)) if word}
    held = vocabulary.concepts_with(groups | set(typed.split()) | {typed})
    if not held:
        return query, query
    finding: dict[str, list[Query]] = {}
    ranking: dict[str, list[Query]] = {}
    whole: list[TagConcept] = []
    for word, concepts in held.items():
        tokens = _tokens(schema, word)
        if len(tokens) == 1:
            finding.setdefault(tokens[0], []).extend(_finds(c) for c in concepts)
            ranking.setdefault(tokens[0], []).extend(_ranks(schema, concepts))
        elif word == typed:
            whole += concepts
    finds = query.accept(lambda q: _widen(q, finding))
    ranks = query.accept(lambda q: _widen(q, ranking))
    if whole:
        finds = Or([finds, *map(_finds, whole)])
        ranks = Or([ranks, *_ranks(schema, whole)])
    return finds, ranks


def tag_query(tag: str) -> Query:
    """The pieces carrying ``tag``, or in a circle where it is a word of a concept, any
    word of that concept (the tag facet, and a search narrowed to a tag)."""
    tag = one_line(tag).lower()
    concepts = vocabulary.concepts_with([tag]).get(tag, [])
    plain = Term("tags", tag)
    return Or([plain, *map(_finds, concepts)]) if concepts else plain


def _finds(concept: TagConcept) -> Query:
    words = Or([Term("tags", word) for word in vocabulary.words_of(concept)])
    return And([Term("circle", str(concept.circle_id)), words])


def _ranks(schema, concepts: list[TagConcept]) -> list[Query]:
    found = {
        token: None
        for concept in concepts
        for word in vocabulary.words_of(concept)
        for token in _tokens(schema, word)
    }
    return [Term("content", token) for token in found]


def _tokens(schema, word: str) -> list[str]:
    return list(schema["content"].process_text(word, mode="query"))


def _groups(query: Query) -> list[Query]:
    return [q for q in _walk(query) if type(q) is Or]


def _walk(query: Query):
    yield query
    for sub in query.children():
        yield from _walk(sub)


def _group_word(q: Query):
    """The word a word's group (its forms in each field, `query.parse`) stands for."""
    return next(
        (sub.text for sub in q.subqueries if type(sub) is Term and sub.fieldname == "content"), None
    )


def _widen(q: Query, extra: dict[str, list[Query]]) -> Query:
    if type(q) is not Or:
        return q
    word = _group_word(q)
    more = extra.get(word) if word else None
    if not more:
        return q
    known = set(q.subqueries)
    return Or(list(q.subqueries) + [sub for sub in dict.fromkeys(more) if sub not in known])
