"""Search finds what people mean: the judged set (`tests/search_judgements`) indexed through
the site's own contribution path and searched as a visitor, with recall among the first ten
and mean reciprocal rank held above their thresholds and no query finding a piece it must
not (nor the piece the visitor may not see)."""

from __future__ import annotations

from flask_login import AnonymousUserMixin

from archive.search.query import search
from tests import search_judgements as judged


def test_the_judged_queries_find_what_people_mean(app, make_circle, make_account):
    circle = make_circle("vartul", "Vartul")
    author = make_account("lekhika", circle=circle)
    outsider = make_account("gupt", circle=circle)
    ids = judged.share_all(author, circle, outsider)
    visitor = AnonymousUserMixin()

    def found_ids(query: str) -> list[str]:
        with app.test_request_context():
            return [hit.item.public_id for hit in search(visitor, query, per_page=100).hits]

    result = judged.judge(found_ids, ids)
    print(result.line())
    for query, keys in result.missed:
        print(f"  {query!r} missed {keys}")
    assert not result.wrong, result.wrong
    assert result.recall >= judged.MIN_RECALL, result.missed
    assert result.mrr >= judged.MIN_MRR, result.missed
